import { escapeHtml, formatValue, NOT_AVAILABLE } from './format.js';

/** A table cell: ready HTML, optionally with the value the inline sorter compares. */
export interface Cell {
  html: string;
  /** Sort key; numbers sort numerically. Default: the cell's text. */
  sort?: number | string;
}

export interface Column {
  label: string;
  /** Right-aligns the column and sorts it as numbers. */
  numeric?: boolean;
  /** Tooltip explaining the column. */
  title?: string;
}

export interface TableOptions {
  columns: (Column | string)[];
  rows: (Cell | string)[][];
  caption?: string;
  /** Adds click-to-sort headers (works only when JavaScript runs; the table reads fine without). */
  sortable?: boolean;
  /** Extra CSS class on the table element. */
  className?: string;
}

/** Renders a table; cells are HTML, so callers escape text themselves (formatters do). */
export function renderTable(options: TableOptions): string {
  const columns = options.columns.map((column) => (typeof column === 'string' ? { label: column } : column));
  const classes = ['data', options.sortable ? 'sortable' : '', options.className ?? ''].filter(Boolean).join(' ');
  const head = columns
    .map((column) => {
      const attributes = [
        column.numeric ? ' class="num"' : '',
        column.title ? ` title="${escapeHtml(column.title)}"` : '',
        options.sortable ? ` data-type="${column.numeric ? 'number' : 'text'}"` : '',
      ].join('');
      return `<th${attributes}>${escapeHtml(column.label)}</th>`;
    })
    .join('');
  const body = options.rows
    .map((row) => {
      const cells = row.map((raw, index) => {
        const cell = typeof raw === 'string' ? { html: raw } : raw;
        const numeric = columns[index]?.numeric ? ' class="num"' : '';
        const sort = cell.sort !== undefined ? ` data-sort="${escapeHtml(cell.sort)}"` : '';
        return `<td${numeric}${sort}>${cell.html}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  // A caption above the table rather than <caption>, which would wrap to the width of a narrow table.
  const caption = options.caption ? `<p class="table-caption">${options.caption}</p>` : '';
  return `${caption}<div class="table-wrap"><table class="${classes}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** Renders a two-column table of facts: label and value (the value is HTML). */
export function renderFacts(facts: [string, string][], caption?: string): string {
  const rows = facts.map(([label, value]) => `<tr><th scope="row">${escapeHtml(label)}</th><td>${value}</td></tr>`);
  const head = caption ? `<p class="table-caption">${caption}</p>` : '';
  return `${head}<div class="table-wrap"><table class="facts"><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

/** Facts from leftover summary fields, so nothing a stage recorded is hidden from the reader. */
export function renderOtherFacts(entries: [string, unknown][], caption = 'Other recorded values'): string {
  if (entries.length === 0) return '';
  const facts = entries.map(([key, value]): [string, string] => [humanizeKey(key), formatValue(value)]);
  return `<details class="other"><summary>${escapeHtml(caption)} (${entries.length})</summary>${renderFacts(facts)}</details>`;
}

/** "nHighlyVariable" → "n highly variable"; "library_size" → "library size". */
export function humanizeKey(key: string): string {
  return key
    .replace(/_/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

export type CalloutKind = 'info' | 'warning' | 'danger' | 'ok';

/** Renders a highlighted box for warnings, the privacy statement or a skipped step. */
export function renderCallout(kind: CalloutKind, title: string, bodyHtml: string): string {
  return `<div class="callout ${kind}" role="note"><p class="callout-title">${escapeHtml(title)}</p>${bodyHtml}</div>`;
}

/** Renders a bulleted list of items that are already HTML. */
export function renderList(items: string[]): string {
  if (items.length === 0) return '';
  return `<ul>${items.map((item) => `<li>${item}</li>`).join('')}</ul>`;
}

/** Status of a report section: rendered from data, or skipped with the reason shown in its place. */
export type SectionStatus = 'rendered' | 'skipped';

export interface Section {
  id: string;
  title: string;
  status: SectionStatus;
  /** Body HTML; for a skipped section, the sentence saying why. */
  html: string;
  /** Points drawn in the UMAP scatters and the cohort size, set by the clustering section. */
  scatter?: { drawn: number; samples: number };
}

/** Builds the section of a stage that did not run: its heading stays, with the reason in words. */
export function skippedSection(id: string, title: string, reason: string): Section {
  return {
    id,
    title,
    status: 'skipped',
    html: renderCallout('info', 'Not run', `<p>${escapeHtml(reason)}</p>`),
  };
}

/** Renders the place of a table or plot that could not be drawn, with the reason. */
export function unavailable(what: string, reason: string): string {
  return `<p class="unavailable"><strong>${escapeHtml(what)}:</strong> ${NOT_AVAILABLE} (${escapeHtml(reason)})</p>`;
}
