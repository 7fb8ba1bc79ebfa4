/**
 * Hand-written SVG line charts for time series (the step load): one panel per measure, one
 * line per arm, dashed vertical marks where the load steps. Same look as `svg.js`.
 */
const WIDTH = 980;
const LEFT = 70;
const PLOT_WIDTH = 700;
const PLOT_HEIGHT = 200;
const COLORS = ['#2563eb', '#16a34a', '#94a3b8', '#f59e0b', '#dc2626', '#7c3aed'];

const escape = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );
const text = (x, y, content, attributes = '') =>
  `<text x="${x}" y="${y}" ${attributes}>${escape(content)}</text>`;

/**
 * @param {{ title: string, subtitle: string, marks: Array<{ t: number, label: string }>,
 *   panels: Array<{ title: string, lines: Array<{ name: string, points: Array<[number, number]> }> }> }} chart
 *   points are [seconds, value]; every panel shares the time axis.
 * @returns {string} the SVG document
 */
export function lineChart({ title, subtitle, marks, panels }) {
  const lines = panels.flatMap((panel) => panel.lines);
  const tMax = Math.max(1, ...lines.flatMap((line) => line.points.map(([t]) => t)));
  const x = (t) => LEFT + (t / tMax) * PLOT_WIDTH;
  const parts = [
    text(16, 30, title, 'font-size="17" font-weight="600"'),
    text(16, 50, subtitle, 'font-size="11" fill="#475569"'),
  ];
  let top = 90;
  for (const panel of panels) {
    const vMax = Math.max(1, ...panel.lines.flatMap((line) => line.points.map(([, v]) => v)));
    const y = (v) => top + PLOT_HEIGHT - (v / vMax) * PLOT_HEIGHT;
    parts.push(text(16, top - 12, panel.title, 'font-size="13" font-weight="600"'));
    parts.push(
      `<rect x="${LEFT}" y="${top}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" fill="none" stroke="#cbd5e1"/>`,
    );
    for (const fraction of [0, 0.5, 1]) {
      const value = Math.round(vMax * fraction);
      parts.push(text(LEFT - 6, y(value) + 4, value, 'text-anchor="end" font-size="10"'));
    }
    for (const mark of marks) {
      parts.push(
        `<line x1="${x(mark.t)}" y1="${top}" x2="${x(mark.t)}" y2="${top + PLOT_HEIGHT}" stroke="#64748b" stroke-dasharray="4 3"/>`,
        text(x(mark.t) + 3, top + 12, mark.label, 'font-size="10" fill="#475569"'),
      );
    }
    panel.lines.forEach((line, i) => {
      const d = line.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      parts.push(
        `<polyline points="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>`,
      );
    });
    parts.push(
      text(
        LEFT + PLOT_WIDTH / 2,
        top + PLOT_HEIGHT + 16,
        'seconds',
        'font-size="10" text-anchor="middle"',
      ),
    );
    parts.push(
      text(LEFT + PLOT_WIDTH, top + PLOT_HEIGHT + 16, tMax, 'font-size="10" text-anchor="end"'),
    );
    top += PLOT_HEIGHT + 60;
  }
  panels[0].lines.forEach((line, i) => {
    const ly = 100 + i * 18;
    parts.push(
      `<rect x="${LEFT + PLOT_WIDTH + 20}" y="${ly - 10}" width="12" height="12" rx="2" fill="${COLORS[i % COLORS.length]}"/>`,
      text(LEFT + PLOT_WIDTH + 38, ly, line.name, 'font-size="11"'),
    );
  });
  const height = top;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12" fill="#0f172a">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
