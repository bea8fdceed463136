import { escapeHtml } from './format.js';
import type { Section } from './html.js';

/** Stylesheet of the report, inline so the file opens offline; the print rules keep plots whole across pages. */
const STYLE = `
:root { --fg: #1d2433; --muted: #5b6475; --line: #d9dde5; --bg-soft: #f5f7fa; --accent: #2f5d9a; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; }
header.top { padding: 1.2rem 2rem; border-bottom: 1px solid var(--line); background: var(--bg-soft); }
header.top h1 { margin: 0 0 .2rem; font-size: 1.5rem; }
header.top p { margin: 0; color: var(--muted); }
nav.toc { padding: .6rem 2rem; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: white; z-index: 2; }
nav.toc a { margin-right: 1rem; color: var(--accent); text-decoration: none; white-space: nowrap; }
nav.toc a.skipped { color: var(--muted); text-decoration: line-through; }
main { padding: 0 2rem 3rem; max-width: 1400px; }
section { border-bottom: 1px solid var(--line); padding: 1rem 0 1.5rem; }
h2 { font-size: 1.3rem; margin: .6rem 0; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--bg-soft); padding: 0 .2em; border-radius: 3px; }
code.hash { word-break: break-all; }
.row { display: flex; flex-wrap: wrap; gap: 1.2rem; align-items: flex-start; }
figure.plot { margin: .4rem 0; max-width: 100%; overflow-x: auto; }
figure.plot svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; max-width: 560px; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .4rem 0 .8rem; font-size: 13px; }
p.table-caption { color: var(--muted); margin: .6rem 0 0; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .6rem; text-align: left; vertical-align: top; }
table.facts th { font-weight: 500; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; }
table.sortable th[aria-sort="ascending"]::after { content: " ▲"; }
table.sortable th[aria-sort="descending"]::after { content: " ▼"; }
.na { color: #8a6d00; font-style: italic; }
.zero { color: #b5bac4; }
.yes { color: #1b7a3a; font-weight: 600; }
.no { color: var(--muted); }
.note { color: var(--muted); font-size: 12.5px; }
.headline { font-size: 1.1rem; }
.callout { border-left: 4px solid var(--accent); background: var(--bg-soft); padding: .5rem 1rem; margin: .8rem 0; max-width: 900px; }
.callout-title { font-weight: 600; margin: .2rem 0; }
.callout.warning { border-color: #d39b00; background: #fff8e1; }
.callout.danger { border-color: #c62828; background: #fdecea; }
.callout.ok { border-color: #2e7d32; background: #edf7ee; }
.methods p { max-width: 900px; }
details { margin: .3rem 0; }
summary { cursor: pointer; color: var(--accent); }
@media print { nav.toc { position: static; } figure.plot { break-inside: avoid; } }
`;

/**
 * Click-to-sort for tables marked `sortable`. The page reads fully without it (the report
 * must render with JavaScript disabled), so this only adds sorting.
 */
const SORT_SCRIPT = `
function sortKey(cell) {
  if (!cell) return '';
  if (cell.dataset.sort !== undefined) return cell.dataset.sort;
  return cell.textContent || '';
}
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('thead th').forEach(function (th, column) {
    th.addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('thead th').forEach(function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var numeric = th.dataset.type === 'number';
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var u = sortKey(a.cells[column]);
        var v = sortKey(b.cells[column]);
        var order = numeric ? (parseFloat(u) || 0) - (parseFloat(v) || 0) : u.localeCompare(v);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
`;

export interface PageParts {
  title: string;
  /** One line under the title: run id, date, code version. */
  subtitle: string;
  methodsHtml: string;
  warningsHtml: string;
  sections: Section[];
  footer: string;
}

/** Assembles the self-contained report page: inline style, inline SVG, a content security policy that forbids every fetch. */
export function renderPage(parts: PageParts): string {
  const toc = [
    '<a href="#methods">What was done</a>',
    ...parts.sections.map((s) => `<a href="#${s.id}"${s.status === 'skipped' ? ' class="skipped" title="not run"' : ''}>${escapeHtml(s.title)}</a>`),
  ].join('');
  const sections = parts.sections
    .map((s) => `<section id="${s.id}" data-section="${s.id}" data-status="${s.status}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.html}\n</section>`)
    .join('\n');
  // default-src 'none' blocks every network request; inline style, inline SVG images and the inline sort script are allowed.
  const csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; font-src data:";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="genevae">
<title>${escapeHtml(parts.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top"><h1>${escapeHtml(parts.title)}</h1><p>${parts.subtitle}</p></header>
<nav class="toc">${toc}</nav>
<main>
<section id="methods" data-section="methods" data-status="rendered" class="methods">
<h2>What was done</h2>
${parts.warningsHtml}
${parts.methodsHtml}
</section>
${sections}
<footer class="note"><p>${parts.footer}</p></footer>
</main>
<script>${SORT_SCRIPT}</script>
</body>
</html>
`;
}
