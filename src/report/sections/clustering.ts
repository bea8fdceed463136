import type { ClusterSummary } from '../../stages/cluster.js';
import { FILES } from '../../run/layout.js';
import { escapeHtml, formatInteger, formatNumber, formatPercent, formatValue, NOT_AVAILABLE } from '../format.js';
import { Fields, isRecord } from '../fields.js';
import { renderFacts, renderOtherFacts, renderTable, skippedSection, unavailable, type Section } from '../html.js';
import { barSpec, criterionSpec, heatmapSpec, renderFigure, scatterSpec, type HeatCell, type ScatterPoint } from '../plot.js';
import { labelsOf } from '../run-data.js';
import { sampleForScatter } from '../sample.js';
import type { SectionContext } from './context.js';
import { renderMarkers } from './markers.js';

/** One partition as the section reads it from ClusterSummary.clusterings (extra fields are optional). */
interface ClusteringFields {
  column: string;
  method: string;
  space: string;
  nClusters: number;
  sizes: number[];
  agreement: unknown;
  resolution: number;
  /** Per-cluster stability under resampling (mean Jaccard of the best-matching cluster), cluster 0 first. */
  stability: unknown;
}

const UNLABELLED = '(no label)';

/** Renders the clustering section: UMAP scatters, k selection, clusters against labels, agreement, stability, markers. */
export async function renderClusteringSection(context: SectionContext): Promise<Section> {
  const { data } = context;
  if (!data.completed('cluster')) {
    return skippedSection('clustering', 'Clustering', 'The cluster stage has not completed in this run.');
  }
  const summary = data.summary<ClusterSummary>('cluster');
  const clusterings = summary.records<ClusteringFields>('clusterings');
  const primary = clusterings.find((c) => c.string('space') !== 'pca') ?? clusterings[0] ?? null;
  const labelClasses = summary.strings('labelClasses');
  const parts: string[] = [];

  const scatter = await renderScatters(context, primary);
  parts.push(scatter.html);
  parts.push('<h3>Choice of k</h3>', await renderCriterion(summary));
  parts.push('<h3>Agreement with labels</h3>', renderAgreementTable(clusterings, labelClasses.length > 0));
  for (const clustering of clusterings) {
    parts.push(await renderClustering(clustering, labelClasses));
  }
  parts.push('<h3>Marker genes</h3>', await renderMarkers(data));
  parts.push(
    renderOtherFacts(
      summary.remainingScalars(['nSamples', 'latentDim', 'seed', 'kmeans', 'labelClasses', 'clusterings', 'umap', 'timings']),
      'Other values recorded by cluster',
    ),
  );
  return { id: 'clustering', title: 'Clustering', status: 'rendered', html: parts.join('\n'), scatter: scatter.counts ?? undefined };
}

/** Numeric cluster ids as strings, in numeric order. */
function clusterOrder(codes: Iterable<number>): string[] {
  return [...new Set(codes)].sort((a, b) => a - b).map(String);
}

interface ScatterResult {
  html: string;
  counts: { drawn: number; samples: number } | null;
}

async function renderScatters(context: SectionContext, primary: Fields<ClusteringFields> | null): Promise<ScatterResult> {
  const { data } = context;
  const umap = data.sampleMatrix('cluster', FILES.umap, 'umap');
  if (!umap || umap.matrix.nCols < 2) {
    return { html: unavailable('UMAP scatter plots', 'umap.arrow is missing or has no 2-D coordinates'), counts: null };
  }
  const n = umap.sampleIds.length;
  const clustersFrame = data.frame('cluster', FILES.clusters);
  const column = primary?.string('column') ?? 'kmeans';
  const clusterById = new Map<string, number>();
  if (clustersFrame && clustersFrame[column] && clustersFrame.sample_id) {
    const ids = clustersFrame.sample_id as string[];
    const codes = clustersFrame[column] as ArrayLike<number>;
    for (let i = 0; i < ids.length; i++) clusterById.set(ids[i], codes[i]);
  }
  const obs = data.obs();
  const labels = labelsOf(obs);
  const labelById = new Map<string, string | null>();
  if (labels && obs?.sample_id) (obs.sample_id as string[]).forEach((id, i) => labelById.set(id, labels[i]));

  const clusterOf = umap.sampleIds.map((id) => clusterById.get(id) ?? -1);
  const sample = sampleForScatter(clusterOf, context.options.maxScatterPoints, context.seed);
  const sampled = sample.length < n;
  const pointSize = n <= 200 ? 40 : n <= 2_000 ? 18 : 8;
  const scope = sampled
    ? ` <strong>Sampled:</strong> ${formatInteger(sample.length)} of ${formatInteger(n)} samples are drawn (a seeded sample proportional to cluster size, at least 25 per cluster); exports/umap.tsv holds every sample.`
    : ` All ${formatInteger(n)} samples are drawn.`;

  const figures: string[] = [];
  if (clusterById.size > 0) {
    const points: ScatterPoint[] = Array.from(sample, (i) => ({
      x: umap.matrix.data[i * umap.matrix.nCols],
      y: umap.matrix.data[i * umap.matrix.nCols + 1],
      group: clusterOf[i] >= 0 ? String(clusterOf[i]) : 'none',
    }));
    const groups = clusterOrder(clusterOf.filter((c) => c >= 0));
    figures.push(
      await renderFigure(
        'umap-clusters',
        scatterSpec(points, { xTitle: 'UMAP 1', yTitle: 'UMAP 2', colorTitle: `cluster (${column})`, groups, pointSize }),
        `UMAP of the latents, coloured by ${escapeHtml(column)} cluster.${groups.length > 20 ? ' Colours repeat beyond 20 clusters.' : ''}${scope}`,
      ),
    );
  } else {
    figures.push(unavailable('UMAP coloured by cluster', `clusters.arrow has no column '${column}'`));
  }
  if (labels) {
    const labelOf = umap.sampleIds.map((id) => labelById.get(id) ?? null);
    const points: ScatterPoint[] = Array.from(sample, (i) => ({
      x: umap.matrix.data[i * umap.matrix.nCols],
      y: umap.matrix.data[i * umap.matrix.nCols + 1],
      group: labelOf[i] ?? UNLABELLED,
    }));
    const groups = [...new Set(labelOf.map((label) => label ?? UNLABELLED))].sort();
    figures.push(
      await renderFigure(
        'umap-labels',
        scatterSpec(points, { xTitle: 'UMAP 1', yTitle: 'UMAP 2', colorTitle: 'label', groups, pointSize }),
        `The same UMAP coloured by label.${groups.length > 20 ? ' Colours repeat beyond 20 labels.' : ''}${scope}`,
      ),
    );
  } else {
    figures.push('<p>No labels, so no scatter coloured by label.</p>');
  }
  return { html: `<div class="row">${figures.join('')}</div>`, counts: { drawn: sample.length, samples: n } };
}

async function renderCriterion(summary: Fields<ClusterSummary>): Promise<string> {
  const kmeans = summary.object<ClusterSummary['kmeans']>('kmeans');
  const curve = kmeans.array('curve').filter(isRecord);
  if (curve.length === 0) return unavailable('k-selection curve', 'the cluster summary records no criterion values');
  const chosen = kmeans.number('chosenK');
  const silhouette = curve.filter((p) => typeof p.k === 'number' && typeof p.silhouette === 'number').map((p) => ({ k: p.k as number, value: p.silhouette as number }));
  const inertia = curve.filter((p) => typeof p.k === 'number' && typeof p.inertia === 'number').map((p) => ({ k: p.k as number, value: p.inertia as number }));
  const subsample = kmeans.number('silhouetteSamples');
  const figures: string[] = [];
  if (silhouette.length) {
    figures.push(
      await renderFigure(
        'k-silhouette',
        criterionSpec(silhouette, chosen, 'mean silhouette'),
        `Mean silhouette for each k from ${formatInteger(kmeans.number('kMin'))} to ${formatInteger(kmeans.number('kMax'))} (${formatInteger(kmeans.number('restarts'))} restarts each); the dashed line marks the chosen k = ${formatInteger(chosen)}, the highest silhouette.` +
          (subsample !== null && subsample < (summary.number('nSamples') ?? Infinity) ? ` Silhouettes are computed on a seeded subsample of ${formatInteger(subsample)} samples.` : ''),
      ),
    );
  }
  if (inertia.length) {
    figures.push(await renderFigure('k-inertia', criterionSpec(inertia, chosen, 'inertia (within-cluster sum of squares)'), 'Inertia against k (the elbow plot), for comparison.'));
  }
  return `<div class="row">${figures.join('')}</div>`;
}

function renderAgreementTable(clusterings: Fields<ClusteringFields>[], hasLabels: boolean): string {
  if (!hasLabels) return '<p>No labels, so no agreement with labels to report.</p>';
  const rows = clusterings.map((clustering) => {
    const agreement = clustering.object<Record<string, unknown>>('agreement');
    return [
      `<code>${escapeHtml(clustering.string('column') ?? '?')}</code>`,
      escapeHtml(clustering.string('method') ?? NOT_AVAILABLE),
      escapeHtml(clustering.string('space') === 'pca' ? 'PCA (baseline)' : (clustering.string('space') ?? NOT_AVAILABLE)),
      { html: formatInteger(clustering.number('nClusters')), sort: clustering.number('nClusters') ?? 0 },
      { html: formatNumber(agreement.number('ari'), 3), sort: agreement.number('ari') ?? -1 },
      { html: formatNumber(agreement.number('nmi'), 3), sort: agreement.number('nmi') ?? -1 },
      { html: formatInteger(agreement.number('nLabelled')), sort: agreement.number('nLabelled') ?? 0 },
    ];
  });
  return (
    renderTable({
      columns: ['clustering', 'method', 'space', { label: 'clusters', numeric: true }, { label: 'ARI', numeric: true, title: 'adjusted Rand index' }, { label: 'NMI', numeric: true, title: 'normalized mutual information' }, { label: 'labelled samples', numeric: true }],
      rows,
      sortable: true,
    }) + '<p class="note">ARI and NMI compare each clustering with the labels on the labelled samples only; 1 is perfect agreement, 0 is chance (ARI can go below 0).</p>'
  );
}

async function renderClustering(clustering: Fields<ClusteringFields>, labelClasses: string[]): Promise<string> {
  const column = clustering.string('column') ?? 'clusters';
  const sizes = clustering.numbers('sizes');
  const agreement = clustering.object<Record<string, unknown>>('agreement');
  const counts = agreement.array('counts').filter(Array.isArray) as unknown[][];
  const parts: string[] = [`<h3>Clusters: <code>${escapeHtml(column)}</code> (${escapeHtml(clustering.string('method') ?? '')}${clustering.string('space') ? ` on ${escapeHtml(clustering.string('space'))}` : ''})</h3>`];
  const total = sizes.reduce((a, b) => a + b, 0);
  const stability = readStability(clustering.raw('stability'));

  if (counts.length > 0 && labelClasses.length > 0) {
    const columns = [
      'cluster',
      { label: 'size', numeric: true },
      ...(stability ? [{ label: 'stability', numeric: true, title: 'mean Jaccard similarity to the best-matching cluster under resampling' }] : []),
      ...labelClasses.map((label) => ({ label, numeric: true })),
    ];
    const rows = sizes.map((size, c) => [
      String(c),
      { html: formatInteger(size), sort: size },
      ...(stability ? [{ html: formatNumber(stability[c] ?? null, 3), sort: stability[c] ?? -1 }] : []),
      ...labelClasses.map((_, l) => {
        const count = typeof counts[c]?.[l] === 'number' ? (counts[c][l] as number) : 0;
        return { html: count === 0 ? '<span class="zero">0</span>' : formatInteger(count), sort: count };
      }),
    ]);
    parts.push(renderTable({ columns, rows, sortable: true, caption: 'Samples per cluster and label (unlabelled samples count in the size only)' }));
    parts.push(await renderContingencyHeatmap(column, counts, labelClasses, sizes.length));
  } else if (sizes.length > 0) {
    const rows = sizes.map((size, c) => [String(c), { html: formatInteger(size), sort: size }, formatPercent(size / Math.max(total, 1)), ...(stability ? [formatNumber(stability[c] ?? null, 3)] : [])]);
    parts.push(renderTable({ columns: ['cluster', { label: 'size', numeric: true }, { label: 'share', numeric: true }, ...(stability ? [{ label: 'stability', numeric: true }] : [])], rows, sortable: true }));
  } else {
    parts.push(unavailable('Cluster sizes', 'the cluster summary records none'));
  }
  if (stability) {
    parts.push(
      await renderFigure(
        `stability-${column}`,
        barSpec(stability.map((value, c) => ({ category: String(c), value: value ?? 0 })), { valueTitle: 'stability (mean Jaccard)', categoryTitle: 'cluster', domain: [0, 1] }),
        'Stability of each cluster under resampling: the mean Jaccard similarity between the cluster and its best match when the samples are resampled and clustered again. Below about 0.6 a cluster is unlikely to be real structure.',
      ),
    );
  } else {
    parts.push(unavailable('Cluster stability', 'the cluster stage did not record stability under resampling'));
  }
  return parts.join('\n');
}

function readStability(raw: unknown): (number | null)[] | null {
  if (Array.isArray(raw)) {
    const values = raw.map((v) => (typeof v === 'number' ? v : isRecord(v) && typeof v.jaccard === 'number' ? v.jaccard : isRecord(v) && typeof v.stability === 'number' ? v.stability : null));
    return values.some((v) => v !== null) ? values : null;
  }
  if (isRecord(raw)) return readStability(raw.perCluster ?? raw.clusters ?? raw.jaccard);
  return null;
}

async function renderContingencyHeatmap(column: string, counts: unknown[][], labelClasses: string[], nClusters: number): Promise<string> {
  const cells: HeatCell[] = [];
  for (let c = 0; c < nClusters; c++) {
    const row = counts[c] ?? [];
    const rowTotal = row.reduce<number>((sum, v) => sum + (typeof v === 'number' ? v : 0), 0);
    labelClasses.forEach((label, l) => {
      const count = typeof row[l] === 'number' ? (row[l] as number) : 0;
      cells.push({ x: label, y: String(c), value: rowTotal > 0 ? count / rowTotal : 0, text: formatValue(count).replace(/<[^>]+>/g, '') });
    });
  }
  return renderFigure(
    `contingency-${column}`,
    heatmapSpec(cells, {
      xTitle: 'label',
      yTitle: 'cluster',
      colorTitle: 'share of cluster',
      xOrder: labelClasses,
      yOrder: Array.from({ length: nClusters }, (_, c) => String(c)),
    }),
    'Each cluster (row) split by label: colour is the share of the cluster\'s labelled samples, the number is the count.',
  );
}
