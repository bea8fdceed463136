import type { ClusterSummary, ClusteringReport } from '../../stages/cluster.js';
import type { ClusterStability } from '../../cluster/stability.js';
import type { KmeansCurvePoint } from '../../cluster/kmeans.js';
import type { ResolutionCurvePoint } from '../../cluster/resolution.js';
import { FILES } from '../../run/layout.js';
import { escapeHtml, formatInteger, formatNumber, formatPercent, NOT_AVAILABLE } from '../format.js';
import type { Fields } from '../fields.js';
import { renderFacts, renderOtherFacts, renderTable, skippedSection, unavailable, type Cell, type Column, type Section } from '../html.js';
import { KD_TREE_MAX_DIMENSIONS } from '../../cluster/neighbors.js';
import { barSpec, criterionSpec, heatmapSpec, renderFigure, scatterSpec, type HeatCell, type ScatterPoint } from '../plot.js';
import { labelsOf, type SampleMatrix } from '../run-data.js';
import { sampleForScatter } from '../sample.js';
import type { SectionContext } from './context.js';
import { renderLatentGenes, renderMarkers } from './markers.js';

const UNLABELLED = '(no label)';

/** Mean Jaccard below which a cluster is read as unstable (Hennig's reading of clusterboot). */
const UNSTABLE_JACCARD = 0.6;

/** Renders the clustering section: UMAP scatters, k selection, clusters against labels, agreement, stability, markers. */
export async function renderClusteringSection(context: SectionContext): Promise<Section> {
  const { data } = context;
  if (!data.completed('cluster')) {
    return skippedSection('clustering', 'Clustering', 'The cluster stage has not completed in this run.');
  }
  const summary = data.summary<ClusterSummary>('cluster');
  const clusterings = summary.records<ClusteringReport>('clusterings');
  const latent = clusterings.filter((c) => c.string('space') !== 'pca');
  const baselines = clusterings.filter((c) => c.string('space') === 'pca');
  const labelClasses = summary.strings('labelClasses');
  const parts: string[] = [];

  parts.push(renderSetup(summary));
  const scatter = await renderScatters(context, latent);
  parts.push(scatter.html);
  parts.push('<h3>Choice of k</h3>', await renderCriterion(summary));
  parts.push('<h3>Choice of the Louvain resolution</h3>', await renderResolutionCriterion(summary));
  parts.push('<h3>Agreement with labels, against the PCA baseline</h3>', renderAgreementTable(clusterings, labelClasses.length > 0, summary));
  for (const clustering of latent) parts.push(await renderClustering(clustering, labelClasses));
  if (baselines.length > 0) {
    const inner: string[] = [];
    for (const clustering of baselines) inner.push(await renderClustering(clustering, labelClasses));
    parts.push(`<details><summary>PCA baseline clusters (${baselines.length} clusterings)</summary>${inner.join('\n')}</details>`);
  }
  parts.push(renderMixturePrior(summary));
  parts.push('<h3>Marker genes</h3>', await renderMarkers(summary));
  parts.push('<h3>Genes of each latent dimension</h3>', renderLatentGenes(summary));
  parts.push(
    renderOtherFacts(
      summary.remainingScalars(['nSamples', 'latentDim', 'seed', 'neighbors', 'kmeans', 'louvain', 'baseline', 'labelClasses', 'clusterings', 'stability', 'mixturePrior', 'markers', 'latentGenes', 'umap', 'timings']),
      'Other values recorded by cluster',
    ),
  );
  return { id: 'clustering', title: 'Clustering', status: 'rendered', html: parts.join('\n'), scatter: scatter.counts ?? undefined };
}

function renderSetup(summary: Fields<ClusterSummary>): string {
  const neighbors = summary.object<ClusterSummary['neighbors']>('neighbors');
  const umap = summary.object<ClusterSummary['umap']>('umap');
  const stability = summary.object<NonNullable<ClusterSummary['stability']>>('stability');
  const timings = summary.object<Record<string, number>>('timings');
  return renderFacts([
    ['samples clustered', formatInteger(summary.number('nSamples'))],
    ['latent dimensions', formatInteger(summary.number('latentDim'))],
    [
      'neighbour graph',
      neighbors.isEmpty
        ? NOT_AVAILABLE
        : `${formatInteger(neighbors.number('k'))} neighbours per sample, ${neighbors.string('method') === 'exact' ? 'exact (kd-tree)' : 'approximate (NN-descent)'} search (exact up to ${formatInteger(neighbors.number('exactMaxSamples'))} samples, or at any size in at most ${KD_TREE_MAX_DIMENSIONS} dimensions)`,
    ],
    ['UMAP', `${formatInteger(umap.number('nNeighbors'))} neighbours, minimum distance ${formatNumber(umap.number('minDist'))}, ${formatInteger(umap.number('nEpochs'))} epochs`],
    ['stability', stability.isEmpty ? 'not measured' : stabilityDescription(stability)],
    ['time', Object.entries(timings.value).map(([step, seconds]) => `${escapeHtml(step)} ${typeof seconds === 'number' ? seconds.toFixed(1) : '?'} s`).join(', ') || NOT_AVAILABLE],
  ]);
}

interface ScatterResult {
  html: string;
  counts: { drawn: number; samples: number } | null;
}

/** Cluster code of each UMAP row for one column of clusters.arrow (-1 where the sample is missing). */
function codesFor(umap: SampleMatrix, frame: Record<string, unknown> | null, column: string): Int32Array | null {
  if (!frame || !frame[column] || !frame.sample_id) return null;
  const ids = frame.sample_id as string[];
  const codes = frame[column] as ArrayLike<number>;
  const byId = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) byId.set(ids[i], codes[i]);
  return Int32Array.from(umap.sampleIds, (id) => byId.get(id) ?? -1);
}

async function renderScatters(context: SectionContext, latent: Fields<ClusteringReport>[]): Promise<ScatterResult> {
  const { data } = context;
  const umap = data.sampleMatrix('cluster', FILES.umap, 'umap');
  if (!umap || umap.matrix.nCols < 2) {
    return { html: unavailable('UMAP scatter plots', 'umap.arrow is missing or has no 2-D coordinates'), counts: null };
  }
  const n = umap.sampleIds.length;
  const frame = data.frame('cluster', FILES.clusters);
  const columns = latent.map((c) => c.string('column')).filter((c): c is string => c !== null);
  const primary = columns.length ? codesFor(umap, frame, columns[0]) : null;
  const sample = sampleForScatter(primary ?? new Int32Array(n), context.options.maxScatterPoints, context.seed);
  const sampled = sample.length < n;
  // Larger points for small cohorts so 50 samples are visible, smaller ones so 5,000 do not merge into a blot.
  let pointSize = 8;
  if (sample.length <= 200) pointSize = 40;
  else if (sample.length <= 2_000) pointSize = 18;
  const scope = sampled
    ? ` <strong>Sampled:</strong> ${formatInteger(sample.length)} of ${formatInteger(n)} samples are drawn (a seeded sample proportional to cluster size, at least 25 per cluster); exports/umap.tsv holds every sample.`
    : ` All ${formatInteger(n)} samples are drawn.`;
  const at = (i: number, axis: number) => umap.matrix.data[i * umap.matrix.nCols + axis];

  const figures: string[] = [];
  for (const column of columns) {
    const codes = codesFor(umap, frame, column);
    if (!codes) {
      figures.push(unavailable(`UMAP coloured by ${column}`, `clusters.arrow has no column '${column}'`));
      continue;
    }
    const points: ScatterPoint[] = Array.from(sample, (i) => ({ x: at(i, 0), y: at(i, 1), group: codes[i] >= 0 ? String(codes[i]) : 'none' }));
    const groups = [...new Set(Array.from(codes).filter((c) => c >= 0))].sort((a, b) => a - b).map(String);
    figures.push(
      await renderFigure(
        `umap-${column}`,
        scatterSpec(points, { xTitle: 'UMAP 1', yTitle: 'UMAP 2', colorTitle: `${column} cluster`, groups, pointSize }),
        `UMAP of the latents coloured by ${escapeHtml(column)} cluster (${groups.length} clusters).${groups.length > 20 ? ' Colours repeat beyond 20 clusters.' : ''}${scope}`,
      ),
    );
  }
  const obs = data.obs();
  const labels = labelsOf(obs);
  if (labels && obs?.sample_id) {
    const labelById = new Map<string, string | null>();
    (obs.sample_id as string[]).forEach((id, i) => labelById.set(id, labels[i]));
    const labelOf = umap.sampleIds.map((id) => labelById.get(id) ?? null);
    const points: ScatterPoint[] = Array.from(sample, (i) => ({ x: at(i, 0), y: at(i, 1), group: labelOf[i] ?? UNLABELLED }));
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

function curveRows(curve: Fields<KmeansCurvePoint>[], key: 'silhouette' | 'inertia', series: string) {
  return curve
    .filter((p) => p.number('k') !== null && p.number(key) !== null && Number.isFinite(p.number(key)))
    .map((p) => ({ k: p.number('k')!, value: p.number(key)!, series }));
}

async function renderCriterion(summary: Fields<ClusterSummary>): Promise<string> {
  const kmeans = summary.object<ClusterSummary['kmeans']>('kmeans');
  const baseline = summary.object<NonNullable<ClusterSummary['baseline']>>('baseline');
  const curve = kmeans.records<KmeansCurvePoint>('curve');
  if (curve.length === 0) return unavailable('k-selection curve', 'the cluster summary records no criterion values');
  const chosen = kmeans.number('chosenK');
  const baselineCurve = baseline.records<KmeansCurvePoint>('curve');
  const silhouette = [...curveRows(curve, 'silhouette', 'latent'), ...curveRows(baselineCurve, 'silhouette', 'PCA baseline')];
  const inertia = curveRows(curve, 'inertia', 'latent');
  const subsample = kmeans.number('silhouetteSamples');
  const figures: string[] = [];
  if (silhouette.length) {
    figures.push(
      await renderFigure(
        'k-silhouette',
        criterionSpec(silhouette, chosen, 'mean silhouette'),
        `Mean silhouette of k-means for each k from ${formatInteger(kmeans.number('kMin'))} to ${formatInteger(kmeans.number('kMax'))} (${formatInteger(kmeans.number('restarts'))} restarts each); the dashed line marks the chosen k = ${formatInteger(chosen)} on the latents, the highest silhouette` +
          (baselineCurve.length ? `; the PCA baseline chose k = ${formatInteger(baseline.number('chosenK'))}` : '') +
          '.' +
          (subsample !== null && subsample < (summary.number('nSamples') ?? Infinity) ? ` Silhouettes are computed on a seeded subsample of ${formatInteger(subsample)} samples.` : ''),
      ),
    );
  }
  if (inertia.length) {
    figures.push(await renderFigure('k-inertia', criterionSpec(inertia, chosen, 'inertia (within-cluster sum of squares)'), 'Inertia of k-means on the latents against k (the elbow plot), for comparison.'));
  }
  return `<div class="row">${figures.join('')}</div>`;
}

async function renderResolutionCriterion(summary: Fields<ClusterSummary>): Promise<string> {
  const louvain = summary.object<ClusterSummary['louvain']>('louvain');
  const resolution = louvain.number('resolution');
  if (louvain.isEmpty || resolution === null) return unavailable('Resolution choice', 'the cluster summary does not record how the resolution was set');
  const curve = louvain.records<ResolutionCurvePoint>('curve');
  if (louvain.string('choice') !== 'auto' || curve.length === 0) {
    return `<p>Louvain ran at the fixed resolution ${formatNumber(resolution)} (<code>--resolution</code>), on the latents and on the PCA baseline.</p>`;
  }

  const baselineCurve = summary.object<NonNullable<ClusterSummary['baseline']>>('baseline').records<ResolutionCurvePoint>('resolutionCurve');
  const pcaLouvain = summary.records<ClusteringReport>('clusterings').find((c) => c.string('column') === 'pca_louvain');
  const baselineResolution = pcaLouvain?.object<ClusteringReport['parameters']>('parameters').number('resolution') ?? null;
  const chosenOn = (points: Fields<ResolutionCurvePoint>[], value: number | null) => points.find((p) => p.number('resolution') === value);
  const latentChosen = chosenOn(curve, resolution);
  const baselineChosen = chosenOn(baselineCurve, baselineResolution);
  const singles = curve.filter((p) => p.number('nClusters') === 1).map((p) => formatNumber(p.number('resolution')));
  const subsample = louvain.number('silhouetteSamples');

  const rows = (points: Fields<ResolutionCurvePoint>[], series: string) =>
    points
      .filter((p) => p.number('resolution') !== null && p.number('silhouette') !== null && p.number('silhouette')! > -1)
      .map((p) => ({ k: p.number('resolution')!, value: p.number('silhouette')!, series }));
  const silhouette = [...rows(curve, 'latent'), ...rows(baselineCurve, 'PCA baseline')];
  const figure = silhouette.length
    ? await renderFigure(
        'resolution-silhouette',
        criterionSpec(silhouette, resolution, 'mean silhouette', 'Louvain resolution'),
        `Mean silhouette of the Louvain partition at each resolution; the dashed line marks the chosen resolution ${formatNumber(resolution)} on the latents` +
          (latentChosen ? ` (${formatInteger(latentChosen.number('nClusters'))} clusters)` : '') +
          (baselineChosen ? `; the PCA baseline chose ${formatNumber(baselineChosen.number('resolution'))} (${formatInteger(baselineChosen.number('nClusters'))} clusters)` : '') +
          '. The highest silhouette wins, as for k-means; ties go to the lower resolution.' +
          (singles.length ? ` At resolution ${singles.join(', ')} the latents formed a single cluster, which has no silhouette.` : '') +
          edgeNote(curve, resolution, baselineChosen ? baselineResolution : null) +
          (subsample !== null && subsample < (summary.number('nSamples') ?? Infinity) ? ` Silhouettes are computed on a seeded subsample of ${formatInteger(subsample)} samples.` : ''),
      )
    : '';
  return (
    `<div class="row">${figure}</div>${renderResolutionTable(curve, baselineCurve)}` +
    '<p class="note">Silhouette rewards compact, well-separated clusters and says nothing about whether a cluster would reappear in new data: ' +
    'read the choice together with the stability columns of each clustering below. The latents and the PCA baseline may settle on different numbers of clusters, which the agreement table compares as they are.</p>'
  );
}

/** Tabulates clusters, silhouette and modularity per resolution, with the PCA baseline's scan beside the latents'. */
function renderResolutionTable(curve: Fields<ResolutionCurvePoint>[], baselineCurve: Fields<ResolutionCurvePoint>[]): string {
  const silhouetteText = (p: Fields<ResolutionCurvePoint> | undefined) =>
    !p || p.number('silhouette') === null || p.number('silhouette') === -1 ? NOT_AVAILABLE : formatNumber(p.number('silhouette'), 3);
  const columns: Column[] = [
    { label: 'resolution', numeric: true },
    { label: 'latent clusters', numeric: true },
    { label: 'latent silhouette', numeric: true, title: 'mean silhouette in the latent space; none for a single cluster' },
    { label: 'latent modularity', numeric: true, title: 'modularity with this resolution; values at different resolutions are not comparable' },
  ];
  if (baselineCurve.length > 0) {
    columns.push({ label: 'PCA clusters', numeric: true }, { label: 'PCA silhouette', numeric: true, title: 'mean silhouette in the principal-component space' });
  }
  return renderTable({
    caption: 'Louvain at each resolution scanned',
    columns,
    rows: curve.map((p) => {
      const row = [formatNumber(p.number('resolution')), formatInteger(p.number('nClusters')), silhouetteText(p), formatNumber(p.number('modularity'), 3)];
      if (baselineCurve.length > 0) {
        const pca = baselineCurve.find((q) => q.number('resolution') === p.number('resolution'));
        row.push(pca ? formatInteger(pca.number('nClusters')) : NOT_AVAILABLE, silhouetteText(pca));
      }
      return row;
    }),
  });
}

/** Returns a sentence flagging a chosen resolution at either end of the scanned range, or '' when neither is. */
function edgeNote(curve: Fields<ResolutionCurvePoint>[], resolution: number, baselineResolution: number | null): string {
  const scanned = curve.map((p) => p.number('resolution')).filter((r): r is number => r !== null);
  const atEdge = (value: number | null) => value !== null && scanned.length > 1 && (value === Math.min(...scanned) || value === Math.max(...scanned));
  const edges: string[] = [];
  if (atEdge(resolution)) edges.push(`the latents' choice (${formatNumber(resolution)})`);
  if (atEdge(baselineResolution)) edges.push(`the PCA baseline's choice (${formatNumber(baselineResolution)})`);
  if (edges.length === 0) return '';
  const subject = edges.join(' and ');
  const verb = edges.length > 1 ? 'are' : 'is';
  return ` ${subject.charAt(0).toUpperCase()}${subject.slice(1)} ${verb} at the edge of the scanned range, so a resolution beyond it might score higher (widen <code>--resolutions</code> to check).`;
}

function parametersText(clustering: Fields<ClusteringReport>): string {
  const parameters = clustering.object<ClusteringReport['parameters']>('parameters');
  const parts: string[] = [];
  if (parameters.number('k') !== null) parts.push(`k = ${formatInteger(parameters.number('k'))}`);
  if (parameters.number('resolution') !== null) parts.push(`resolution ${formatNumber(parameters.number('resolution'))}`);
  if (parameters.number('modularity') !== null) parts.push(`modularity ${formatNumber(parameters.number('modularity'), 3)}`);
  return parts.join(', ');
}

function renderAgreementTable(clusterings: Fields<ClusteringReport>[], hasLabels: boolean, summary: Fields<ClusterSummary>): string {
  const baseline = summary.object<NonNullable<ClusterSummary['baseline']>>('baseline');
  const explained = baseline.numbers('explainedVarianceRatio').reduce((a, b) => a + b, 0);
  const baselineNote = baseline.isEmpty
    ? '<p class="note">No PCA baseline was computed in this run.</p>'
    : `<p class="note">PCA baseline: the same clustering on the top ${formatInteger(baseline.number('nComponents'))} principal components (${escapeHtml(baseline.string('pcaMethod') ?? '')} PCA of the ${formatInteger(baseline.number('nGenes'))} scaled selected genes, ${formatPercent(explained)} of their variance). The VAE earns its place when its latents agree with the labels at least as well.</p>`;
  const rows = clusterings.map((clustering) => {
    const agreement = clustering.object<NonNullable<ClusteringReport['agreement']>>('agreement');
    return [
      `<code>${escapeHtml(clustering.string('column') ?? '?')}</code>`,
      escapeHtml(clustering.string('method') ?? NOT_AVAILABLE),
      clustering.string('space') === 'pca' ? 'PCA (baseline)' : escapeHtml(clustering.string('space') ?? NOT_AVAILABLE),
      escapeHtml(parametersText(clustering)),
      { html: formatInteger(clustering.number('nClusters')), sort: clustering.number('nClusters') ?? 0 },
      { html: hasLabels ? formatNumber(agreement.number('ari'), 3) : 'no labels', sort: agreement.number('ari') ?? -1 },
      { html: hasLabels ? formatNumber(agreement.number('nmi'), 3) : 'no labels', sort: agreement.number('nmi') ?? -1 },
    ];
  });
  const table = renderTable({
    columns: [
      'clustering',
      'method',
      'space',
      'parameters',
      { label: 'clusters', numeric: true },
      { label: 'ARI', numeric: true, title: 'adjusted Rand index against the labels' },
      { label: 'NMI', numeric: true, title: 'normalized mutual information against the labels' },
    ],
    rows,
    sortable: true,
  });
  const note = hasLabels
    ? '<p class="note">ARI and NMI compare each clustering with the labels on the labelled samples only: 1 is perfect agreement, 0 is chance (ARI can go below 0).</p>'
    : '<p class="note">The cohort has no labels, so agreement with labels cannot be measured.</p>';
  return table + note + baselineNote;
}

async function renderClustering(clustering: Fields<ClusteringReport>, labelClasses: string[]): Promise<string> {
  const column = clustering.string('column') ?? 'clusters';
  const sizes = clustering.numbers('sizes');
  const agreement = clustering.object<NonNullable<ClusteringReport['agreement']>>('agreement');
  const counts = agreement.array('counts').filter(Array.isArray) as unknown[][];
  const stability = clustering.records<ClusterStability>('stability');
  const stabilityOf = new Map(stability.map((s) => [s.number('cluster'), s]));
  const total = sizes.reduce((a, b) => a + b, 0);
  const parts: string[] = [
    `<h3>Clusters: <code>${escapeHtml(column)}</code> (${escapeHtml(clustering.string('method') ?? '')} on ${escapeHtml(clustering.string('space') ?? '?')}${parametersText(clustering) ? `, ${escapeHtml(parametersText(clustering))}` : ''})</h3>`,
  ];
  if (sizes.length === 0) return parts.join('') + unavailable('Cluster sizes', 'the cluster summary records none');

  const withLabels = counts.length > 0 && labelClasses.length > 0;
  const columns: (Column | string)[] = ['cluster', { label: 'size', numeric: true }, { label: 'share', numeric: true }];
  if (stability.length) {
    columns.push({ label: 'stability (mean Jaccard)', numeric: true, title: 'mean best Jaccard similarity over subsamples' });
    columns.push({ label: 'recovered', numeric: true, title: 'share of subsamples in which the best Jaccard was at least 0.75' });
  }
  if (withLabels) for (const label of labelClasses) columns.push({ label, numeric: true });
  const rows = sizes.map((size, c) => {
    const row: Cell[] = [
      { html: String(c), sort: c },
      { html: formatInteger(size), sort: size },
      { html: formatPercent(size / Math.max(total, 1)), sort: size },
    ];
    if (stability.length) {
      const s = stabilityOf.get(c);
      const jaccard = s?.number('meanJaccard') ?? null;
      const flag = jaccard !== null && jaccard < UNSTABLE_JACCARD ? ' <span class="na" title="below 0.6: likely not a real cluster">unstable</span>' : '';
      row.push({ html: formatNumber(jaccard, 3) + flag, sort: jaccard ?? -1 });
      row.push({ html: formatPercent(s?.number('recovered') ?? null, 0), sort: s?.number('recovered') ?? -1 });
    }
    if (withLabels) {
      labelClasses.forEach((_, l) => {
        const count = typeof counts[c]?.[l] === 'number' ? (counts[c][l] as number) : 0;
        row.push({ html: count === 0 ? '<span class="zero">0</span>' : formatInteger(count), sort: count });
      });
    }
    return row;
  });
  parts.push(renderTable({ columns, rows, sortable: true, caption: withLabels ? 'Samples per cluster and label (unlabelled samples count in the size only)' : 'Samples per cluster' }));
  if (stability.length) {
    parts.push(
      '<p class="note">Stability reclusters random subsamples of the cohort. <em>Mean Jaccard</em> is the average, over the subsamples, of ' +
        "the best overlap (shared samples over samples in either) between this cluster's members in the subsample and a cluster found " +
        `there; below ${UNSTABLE_JACCARD} the cluster is marked unstable. <em>Recovered</em> is the share of subsamples in which that ` +
        'best overlap reached 0.75, so a cluster with a fair mean can still be lost in many subsamples.</p>',
    );
  }

  const figures: string[] = [];
  if (withLabels) figures.push(await renderContingencyHeatmap(column, counts, labelClasses, sizes.length));
  if (stability.length) {
    figures.push(
      await renderFigure(
        `stability-${column}`,
        barSpec(
          sizes.map((_, c) => ({ category: String(c), value: stabilityOf.get(c)?.number('meanJaccard') ?? 0 })),
          { valueTitle: 'stability (mean Jaccard)', categoryTitle: 'cluster', domain: [0, 1] },
        ),
        'Stability of each cluster: the mean best Jaccard similarity between the cluster and a cluster of the reclustered subsample. Below 0.6 a cluster is unlikely to be real structure; above 0.85 it is highly stable (Hennig 2007).',
      ),
    );
  } else if (clustering.string('space') !== 'pca') {
    figures.push(unavailable('Cluster stability', 'not measured for this clustering'));
  }
  parts.push(`<div class="row">${figures.join('')}</div>`);
  return parts.join('\n');
}

async function renderContingencyHeatmap(column: string, counts: unknown[][], labelClasses: string[], nClusters: number): Promise<string> {
  const cells: HeatCell[] = [];
  for (let c = 0; c < nClusters; c++) {
    const row = counts[c] ?? [];
    const rowTotal = row.reduce<number>((sum, v) => sum + (typeof v === 'number' ? v : 0), 0);
    labelClasses.forEach((label, l) => {
      const count = typeof row[l] === 'number' ? (row[l] as number) : 0;
      cells.push({ x: label, y: String(c), value: rowTotal > 0 ? count / rowTotal : 0, text: String(count) });
    });
  }
  return renderFigure(
    `contingency-${column}`,
    heatmapSpec(cells, {
      xTitle: 'label',
      yTitle: `${column} cluster`,
      colorTitle: 'share of cluster',
      xOrder: labelClasses,
      yOrder: Array.from({ length: nClusters }, (_, c) => String(c)),
      domain: [0, 1],
    }),
    "Each cluster (row) split by label: the colour is the share of the cluster's labelled samples, the number the count.",
  );
}

function renderMixturePrior(summary: Fields<ClusterSummary>): string {
  const mixture = summary.object<NonNullable<ClusterSummary['mixturePrior']>>('mixturePrior');
  if (mixture.isEmpty) return '';
  const rows = mixture.records<NonNullable<ClusterSummary['mixturePrior']>['vsClusterings'][number]>('vsClusterings').map((v) => [
    `<code>${escapeHtml(v.string('column') ?? '?')}</code>`,
    { html: formatNumber(v.number('ari'), 3), sort: v.number('ari') ?? -1 },
    { html: formatNumber(v.number('nmi'), 3), sort: v.number('nmi') ?? -1 },
  ]);
  return (
    '<h3>Mixture-prior components against the clusters</h3>' +
    `<p>The VAE used a Gaussian-mixture prior; ${formatInteger(mixture.numbers('components').length)} of its components hold samples (sizes ${escapeHtml(mixture.numbers('sizes').join(', '))}).</p>` +
    renderTable({ columns: ['clustering', { label: 'ARI with components', numeric: true }, { label: 'NMI with components', numeric: true }], rows })
  );
}

/** Says how the stability subsamples were drawn; above the cap they hold fewer than `fraction` of the samples. */
function stabilityDescription(stability: Fields): string {
  const resamples = formatInteger(stability.number('resamples'));
  const perResample = stability.number('samplesPerResample');
  const fraction = formatPercent(stability.number('fraction'), 0);
  if (perResample === null) return `${resamples} subsamples of ${fraction} of the samples, each reclustered`;
  return `${resamples} subsamples of ${formatInteger(perResample)} samples each (${fraction} of the samples, capped), each reclustered`;
}
