import type { Frame } from '../../io/arrow.js';
import { escapeHtml, formatNumber, formatPercent } from '../format.js';
import { renderTable, unavailable } from '../html.js';
import { heatmapSpec, renderFigure, type HeatCell } from '../plot.js';
import type { RunData } from '../run-data.js';

/** Markers listed per group in the table, and drawn per group in the heat map. */
const TOP_MARKERS_TABLE = 10;
const TOP_MARKERS_HEATMAP = 5;

/** Files the cluster stage may write its marker table to, in order of preference. */
const MARKER_FILES = ['markers.arrow', 'markers_clusters.arrow'];

/** Column names accepted for each marker field. */
const COLUMNS = {
  group: ['group', 'cluster'],
  gene: ['gene_id', 'gene'],
  symbol: ['symbol'],
  statistic: ['statistic', 'score', 'z'],
  logFoldChange: ['log_fold_change', 'logfoldchange', 'lfc', 'effect_size'],
  p: ['p', 'pvalue', 'p_value'],
  q: ['q', 'qvalue', 'q_value', 'pvals_adj'],
  fractionIn: ['fraction_in', 'pct_in', 'frac_in', 'fraction_expressing'],
  fractionOut: ['fraction_out', 'pct_out', 'frac_out'],
};

function column(frame: Frame, names: string[]): ArrayLike<unknown> | null {
  for (const name of names) if (frame[name]) return frame[name] as ArrayLike<unknown>;
  return null;
}

interface MarkerRow {
  group: string;
  gene: string;
  symbol: string | null;
  statistic: number | null;
  logFoldChange: number | null;
  p: number | null;
  q: number | null;
  fractionIn: number | null;
  fractionOut: number | null;
}

function readMarkers(frame: Frame): MarkerRow[] | null {
  const group = column(frame, COLUMNS.group);
  const gene = column(frame, COLUMNS.gene);
  if (!group || !gene) return null;
  const get = (names: string[]) => column(frame, names);
  const statistic = get(COLUMNS.statistic);
  const lfc = get(COLUMNS.logFoldChange);
  const p = get(COLUMNS.p);
  const q = get(COLUMNS.q);
  const fin = get(COLUMNS.fractionIn);
  const fout = get(COLUMNS.fractionOut);
  const symbol = get(COLUMNS.symbol);
  const num = (values: ArrayLike<unknown> | null, i: number) => (values && typeof values[i] === 'number' ? (values[i] as number) : null);
  const rows: MarkerRow[] = [];
  for (let i = 0; i < group.length; i++) {
    rows.push({
      group: String(group[i]),
      gene: String(gene[i]),
      symbol: symbol && symbol[i] !== null ? String(symbol[i]) : null,
      statistic: num(statistic, i),
      logFoldChange: num(lfc, i),
      p: num(p, i),
      q: num(q, i),
      fractionIn: num(fin, i),
      fractionOut: num(fout, i),
    });
  }
  return rows;
}

/** Up-regulated markers of each group, best first: smallest q, then largest statistic. */
function topPerGroup(rows: MarkerRow[], count: number): Map<string, MarkerRow[]> {
  const byGroup = new Map<string, MarkerRow[]>();
  for (const row of rows) {
    if (row.logFoldChange !== null && row.logFoldChange <= 0) continue;
    const list = byGroup.get(row.group);
    if (list) list.push(row);
    else byGroup.set(row.group, [row]);
  }
  const ordered = new Map<string, MarkerRow[]>();
  const groups = [...byGroup.keys()].sort((a, b) => (Number.isNaN(Number(a)) || Number.isNaN(Number(b)) ? a.localeCompare(b) : Number(a) - Number(b)));
  for (const group of groups) {
    const list = byGroup.get(group)!;
    list.sort((a, b) => (a.q ?? 1) - (b.q ?? 1) || (b.statistic ?? 0) - (a.statistic ?? 0));
    ordered.set(group, list.slice(0, count));
  }
  return ordered;
}

/** Renders the top markers per cluster as a table and a heat map of their log fold change across clusters. */
export async function renderMarkers(data: RunData): Promise<string> {
  const file = MARKER_FILES.find((name) => data.table('cluster', name) !== null);
  const frame = file ? data.frame('cluster', file) : null;
  const rows = frame ? readMarkers(frame) : null;
  if (!rows) return unavailable('Marker genes', 'the cluster stage wrote no marker table with group and gene_id columns');
  const top = topPerGroup(rows, TOP_MARKERS_TABLE);
  const tableRows = [...top.entries()].flatMap(([group, markers]) =>
    markers.map((m, rank) => [
      escapeHtml(group),
      { html: String(rank + 1), sort: rank + 1 },
      `<code>${escapeHtml(m.gene)}</code>`,
      escapeHtml(m.symbol ?? ''),
      { html: formatNumber(m.logFoldChange, 3), sort: m.logFoldChange ?? 0 },
      { html: formatNumber(m.statistic, 3), sort: m.statistic ?? 0 },
      { html: formatNumber(m.q, 2), sort: m.q ?? 1 },
      { html: formatPercent(m.fractionIn), sort: m.fractionIn ?? 0 },
      { html: formatPercent(m.fractionOut), sort: m.fractionOut ?? 0 },
    ]),
  );
  const table = renderTable({
    columns: [
      'cluster',
      { label: 'rank', numeric: true },
      'gene',
      'symbol',
      { label: 'log fold change', numeric: true },
      { label: 'statistic', numeric: true },
      { label: 'q (BH)', numeric: true },
      { label: 'expressing in cluster', numeric: true },
      { label: 'expressing elsewhere', numeric: true },
    ],
    rows: tableRows,
    sortable: true,
    caption: `Top ${TOP_MARKERS_TABLE} up-regulated genes per cluster (Wilcoxon rank-sum, one cluster against the rest)`,
  });

  // Heat map: the top genes of every cluster, coloured by their log fold change in each cluster.
  const lfc = new Map<string, number>();
  for (const row of rows) if (row.logFoldChange !== null) lfc.set(`${row.group}\u0000${row.gene}`, row.logFoldChange);
  const groups = [...top.keys()];
  const genes: string[] = [];
  const labelOf = new Map<string, string>();
  for (const markers of top.values()) {
    for (const m of markers.slice(0, TOP_MARKERS_HEATMAP)) {
      if (labelOf.has(m.gene)) continue;
      genes.push(m.gene);
      labelOf.set(m.gene, m.symbol ?? m.gene);
    }
  }
  const cells: HeatCell[] = [];
  for (const gene of genes) {
    for (const group of groups) {
      const value = lfc.get(`${group}\u0000${gene}`);
      if (value !== undefined) cells.push({ x: labelOf.get(gene)!, y: group, value });
    }
  }
  const heatmap =
    cells.length > 0
      ? await renderFigure(
          'markers-heatmap',
          heatmapSpec(cells, {
            xTitle: 'gene',
            yTitle: 'cluster',
            colorTitle: 'log fold change',
            xOrder: genes.map((g) => labelOf.get(g)!),
            yOrder: groups,
            diverging: true,
          }),
          `Log fold change of each cluster's top ${TOP_MARKERS_HEATMAP} markers in every cluster (blank where the marker table has no value for that cluster).`,
        )
      : unavailable('Marker heat map', 'the marker table has no log fold changes');
  return table + heatmap;
}
