/** Number formatting and markdown tables, shared by the console report and summary.md. */
export const int = (value) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
export const ms = (value) => (Number.isFinite(value) ? `${value} ms` : '–');
export const ns = (value) => (Number.isFinite(value) ? `${value} ns` : '–');
export const bytes = (value) => (Number.isFinite(value) ? `${value.toFixed(2)} B` : '–');
export const ratio = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '–');
/** `+12` / `-3`: a difference with its sign. */
export const signed = (value, digits = 0) =>
  `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}`;
/** CPU time over wall time: `0.23 core`. */
export const cores = (value) => (Number.isFinite(value) ? `${value.toFixed(2)} core` : '–');
export const percent = (value) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : '–');

/** A GitHub-flavoured markdown table. */
export function table(headers, rows) {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
}
