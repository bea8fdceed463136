import type { ClusterSummary, GroupingMarkers } from '../../stages/cluster.js';
import type { RankedGene } from '../../cluster/tables.js';
import { escapeHtml, formatInteger, formatNumber, formatPercent } from '../format.js';
import type { Fields } from '../fields.js';
import { renderTable, unavailable } from '../html.js';
import { heatmapSpec, renderFigure, type HeatCell } from '../plot.js';

/** Markers listed per group in the report's table; markers.arrow and the biomarker export hold every gene. */
const TOP_MARKERS_TABLE = 5;
/** Maximum rows of a marker table shown open; longer ones fold into a details element. */
const MAX_OPEN_TABLE_ROWS = 60;
/** Genes listed per latent dimension. */
const TOP_LATENT_GENES = 8;

function geneLabel(gene: Fields<RankedGene>): string {
  const symbol = gene.string('symbol');
  return symbol ? `${escapeHtml(symbol)} <code>${escapeHtml(gene.string('geneId') ?? '')}</code>` : `<code>${escapeHtml(gene.string('geneId') ?? '')}</code>`;
}

function renderMarkerTable(grouping: Fields<GroupingMarkers>): string {
  const groups = grouping.records<GroupingMarkers['groups'][number]>('groups');
  const rows = groups.flatMap((group) =>
    group.records<RankedGene>('top').slice(0, TOP_MARKERS_TABLE).map((gene, rank) => [
      { html: `${escapeHtml(group.string('group') ?? '?')} <span class="note">(${formatInteger(group.number('size'))})</span>`, sort: group.string('group') ?? '' },
      { html: String(rank + 1), sort: rank + 1 },
      geneLabel(gene),
      { html: formatNumber(gene.number('effect'), 3), sort: gene.number('effect') ?? 0 },
      { html: formatNumber(gene.number('statistic'), 3), sort: gene.number('statistic') ?? 0 },
      { html: formatNumber(gene.number('q'), 2), sort: gene.number('q') ?? 1 },
      { html: formatPercent(gene.number('pctIn'), 0), sort: gene.number('pctIn') ?? 0 },
      { html: formatPercent(gene.number('pctOut'), 0), sort: gene.number('pctOut') ?? 0 },
    ]),
  );
  return renderTable({
    columns: [
      'group (samples)',
      { label: 'rank', numeric: true },
      'gene',
      { label: 'log fold change', numeric: true },
      { label: 'z (rank sum)', numeric: true },
      { label: 'q (BH)', numeric: true },
      { label: 'expressing in group', numeric: true },
      { label: 'expressing elsewhere', numeric: true },
    ],
    rows,
    sortable: true,
    caption: `Top ${TOP_MARKERS_TABLE} markers per group of <code>${escapeHtml(grouping.string('grouping') ?? '?')}</code> (Wilcoxon rank-sum, one group against the rest)`,
  });
}

/** Heat map of each group's mean of the top markers, scaled per gene to [0, 1] across groups as scanpy's standard_scale='var' does. */
async function renderMarkerHeatmap(grouping: Fields<GroupingMarkers>): Promise<string> {
  const name = grouping.string('grouping') ?? 'groups';
  const heatmap = grouping.object<GroupingMarkers['heatmap']>('heatmap');
  const genes = heatmap.strings('genes');
  const symbols = heatmap.array('symbols');
  const groups = heatmap.strings('groups');
  const means = heatmap.array('means').filter(Array.isArray) as unknown[][];
  if (genes.length === 0 || groups.length === 0 || means.length !== genes.length) {
    return unavailable(`Marker heat map of ${name}`, 'the cluster summary records no heat map values');
  }
  // Symbols can repeat across gene ids; the id keeps each column distinct.
  const seen = new Set<string>();
  const labels = genes.map((gene, g) => {
    const symbol = typeof symbols[g] === 'string' ? (symbols[g] as string) : gene;
    const label = seen.has(symbol) ? `${symbol} (${gene})` : symbol;
    seen.add(label);
    return label;
  });
  const cells: HeatCell[] = [];
  genes.forEach((_, g) => {
    const row = means[g].map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0));
    const low = Math.min(...row);
    const high = Math.max(...row);
    groups.forEach((group, k) => cells.push({ x: labels[g], y: group, value: high > low ? (row[k] - low) / (high - low) : 0 }));
  });
  return renderFigure(
    `markers-${name}`,
    heatmapSpec(cells, { xTitle: 'gene', yTitle: name, colorTitle: 'scaled mean', xOrder: labels, yOrder: groups, domain: [0, 1] }),
    `Mean expression of the top markers of every ${escapeHtml(name)} group, in each group, scaled per gene from 0 (lowest group) to 1 (highest).`,
  );
}

/** Renders the marker genes of every grouping (clusterings and labels): a heat map and a table of the top markers. */
export async function renderMarkers(summary: Fields<ClusterSummary>): Promise<string> {
  const markers = summary.object<NonNullable<ClusterSummary['markers']>>('markers');
  const groupings = markers.records<GroupingMarkers>('groupings');
  if (groupings.length === 0) return unavailable('Marker genes', 'the cluster stage computed none (no lognorm.arrow, or markers turned off)');
  const parts: string[] = [
    `<p>Each group against the rest on the ${escapeHtml(markers.string('foldChange') ?? 'log')}-scale normalized expression of ${formatInteger(markers.number('nGenes'))} genes: Wilcoxon rank-sum test with tie correction, Benjamini–Hochberg q-values, log fold change and the share of samples expressing the gene. <code>genevae export biomarkers</code> writes every gene.</p>`,
  ];
  for (const [index, grouping] of groupings.entries()) {
    const name = grouping.string('grouping') ?? '?';
    parts.push(`<h4>Markers of <code>${escapeHtml(name)}</code></h4>`);
    parts.push(await renderMarkerHeatmap(grouping));
    const table = renderMarkerTable(grouping);
    // The first grouping's table stays open unless it is long (many clusters); the heat map above summarises it.
    const rows = grouping.records('groups').length * TOP_MARKERS_TABLE;
    const open = index === 0 && rows <= MAX_OPEN_TABLE_ROWS;
    parts.push(open ? table : `<details><summary>Table of the top markers of ${escapeHtml(name)}</summary>${table}</details>`);
  }
  return parts.join('\n');
}

/** Renders the genes the decoder ties most strongly to each latent dimension, with their direction. */
export function renderLatentGenes(summary: Fields<ClusterSummary>): string {
  const dimensions = summary.records<NonNullable<ClusterSummary['latentGenes']>[number]>('latentGenes');
  if (dimensions.length === 0) return unavailable('Latent-dimension genes', 'the train stage wrote no decoder loadings');
  const rows = dimensions.map((dimension) => {
    const top = dimension.records<RankedGene>('top').slice(0, TOP_LATENT_GENES);
    const list = (sign: 1 | -1) =>
      top
        .filter((gene) => Math.sign(gene.number('effect') ?? 0) === sign)
        .map((gene) => `${escapeHtml(gene.string('symbol') ?? gene.string('geneId') ?? '?')} <span class="note">${formatNumber(gene.number('effect'), 2)}</span>`)
        .join(', ');
    return [{ html: `z_${(dimension.number('dimension') ?? 0) + 1}`, sort: dimension.number('dimension') ?? 0 }, list(1) || '—', list(-1) || '—'];
  });
  return (
    renderTable({ columns: ['latent dimension', 'genes rising with it (loading)', 'genes falling with it (loading)'], rows }) +
    `<p class="note">The ${TOP_LATENT_GENES} genes with the largest decoder sensitivity per dimension (the mean derivative of the decoded mean with respect to the dimension), split by direction.</p>`
  );
}
