/**
 * Hand-written SVG bar charts: one file per scenario, one panel per measurement, one
 * horizontal bar per arm. No chart library: the picture is a few rectangles and labels.
 */
const WIDTH = 980;
const LABEL_WIDTH = 260;
const BAR_WIDTH = 400;
const ROW = 22;
const COLORS = { pool: '#2563eb', baseline: '#16a34a', other: '#94a3b8' };

const escape = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );

/**
 * @param {{ title: string, subtitle: string, panels: Array<{ title: string,
 *   rows: Array<{ heading?: string, label?: string, value?: number, text?: string,
 *   kind?: 'pool' | 'baseline' | 'other' }> }> }} chart
 * @returns {string} the SVG document
 */
export function barChart({ title, subtitle, panels }) {
  const parts = [];
  let y = 30;
  parts.push(text(16, y, title, 'font-size="17" font-weight="600"'));
  y += 20;
  parts.push(text(16, y, subtitle, 'font-size="11" fill="#475569"'));
  y += 14;
  for (const panel of panels) {
    y += 26;
    parts.push(text(16, y, panel.title, 'font-size="13" font-weight="600"'));
    y += 8;
    const max = Math.max(...panel.rows.map((row) => row.value ?? 0)) || 1;
    for (const row of panel.rows) {
      if (row.heading) {
        y += ROW;
        parts.push(text(24, y - 6, row.heading, 'font-size="11" font-weight="600" fill="#334155"'));
        continue;
      }
      y += ROW;
      const width = Math.max(1, (row.value / max) * BAR_WIDTH);
      parts.push(text(LABEL_WIDTH - 8, y - 6, row.label, 'text-anchor="end"'));
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y - ROW + 4}" width="${width.toFixed(1)}" height="${ROW - 8}" rx="2" fill="${COLORS[row.kind ?? 'other']}"/>`,
      );
      parts.push(text(LABEL_WIDTH + width + 6, y - 6, row.text ?? String(row.value)));
    }
  }
  y += 30;
  let x = 16;
  for (const [kind, name] of [
    ['pool', 'nestjs-grpc-pool'],
    ['baseline', 'baseline the ratios are taken against'],
    ['other', 'alternatives'],
  ]) {
    parts.push(
      `<rect x="${x}" y="${y - 10}" width="12" height="12" rx="2" fill="${COLORS[kind]}"/>`,
    );
    parts.push(text(x + 18, y, name, 'font-size="11"'));
    x += 40 + name.length * 6.5;
  }
  y += 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12" fill="#0f172a">`,
    `<rect width="${WIDTH}" height="${y}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function text(x, y, content, attributes = '') {
  return `<text x="${x}" y="${y}" ${attributes}>${escape(content)}</text>`;
}
