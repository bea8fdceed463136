import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { denseToTable, writeFrame, writeTable } from '../../src/io/arrow.js';
import { STAGE_DIRS, type StageName } from '../../src/run/layout.js';
import type { Manifest, StageSummaryFile } from '../../src/run/runner.js';
import { Rng } from '../../src/util/rng.js';

/**
 * Writes the outputs of ingest … classify for a synthetic cohort, so report tests run without
 * training: samples fall in `nClusters` Gaussian blobs in latent and UMAP space, labels follow
 * the blobs with 10% noise, and every summary has the shape its stage writes.
 */
export interface RunFixtureOptions {
  nSamples: number;
  nGenes?: number;
  nClusters?: number;
  latentDim?: number;
  /** Whether obs has a label column. Default true. */
  labelled?: boolean;
  /** Share of samples without a label. Default 0.05. */
  unlabelledFraction?: number;
  /** Whether training used DP-SGD. Default true. */
  dp?: boolean;
  /** Stages whose outputs exist. Default: all five before report. */
  stages?: StageName[];
  seed?: number;
  /** Caps that classify states it applied, as sentences. Default none. */
  classifyScalingNotes?: string[];
  /** Ledger entry the train summary names. Default 'entry-0001' with DP, null without. */
  ledgerEntryId?: string;
}

const ALL: StageName[] = ['ingest', 'normalize', 'train', 'cluster', 'classify'];

function writeSummary(runDir: string, stage: StageName, summary: unknown, warnings: string[] = []): void {
  const dir = join(runDir, STAGE_DIRS[stage]);
  mkdirSync(dir, { recursive: true });
  const file: StageSummaryFile = {
    stage,
    key: `fixture-${stage}`,
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:01.000Z',
    seconds: 1.25,
    summary: summary as Record<string, unknown>,
    warnings,
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(file, null, 2));
}

export function writeRunFixture(runDir: string, options: RunFixtureOptions): void {
  const n = options.nSamples;
  const nGenes = options.nGenes ?? 100;
  const k = options.nClusters ?? 4;
  const d = options.latentDim ?? 8;
  const labelled = options.labelled ?? true;
  const dp = options.dp ?? true;
  const stages = new Set(options.stages ?? ALL);
  const rng = new Rng(options.seed ?? 7);
  mkdirSync(runDir, { recursive: true });

  const sampleIds = Array.from({ length: n }, (_, i) => `S${String(i + 1).padStart(6, '0')}`);
  const group = Int32Array.from({ length: n }, (_, i) => (i * 7 + rng.int(3)) % k);
  const classes = Array.from({ length: Math.min(k, 3) }, (_, c) => ['tumour', 'normal', 'metastasis'][c]);
  const labels: (string | null)[] = Array.from(group, (g) => {
    if (rng.uniform() < (options.unlabelledFraction ?? 0.05)) return null;
    const c = rng.uniform() < 0.9 ? g % classes.length : rng.int(classes.length);
    return classes[c];
  });
  const librarySize = Float64Array.from({ length: n }, () => Math.round(Math.exp(rng.normal(9.5, 0.5))));
  const geneIds = Array.from({ length: nGenes }, (_, j) => `ENSG${String(j).padStart(11, '0')}`);
  const symbols = Array.from({ length: nGenes }, (_, j) => `GENE${j}`);
  const nHvg = Math.max(2, Math.round(nGenes * 0.3));

  const manifest: Manifest = {
    runId: 'fixture-run',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:10:00.000Z',
    codeVersion: '0.1.0+fixture',
    versions: { node: process.version, 'apache-arrow': '21.0.0' },
    seed: 0,
    inputs: [{ path: '/data/cohort.csv', bytes: 123_456, sha256: 'ab'.repeat(32) }],
    options: {
      train: { latentDim: d, hiddenDims: [128], dp, clipNorm: 1, batchSize: 64, epochs: 20, likelihood: 'gaussian', accountant: 'rdp', learningRate: 0.001, klWarmupFraction: 0.25, beta: 1, layerNorm: true, dropout: 0 },
      classify: { folds: 5, repeats: 3 },
    },
    stages: Object.fromEntries([...stages].map((stage) => [stage, { status: 'done', key: `fixture-${stage}`, startedAt: '2025-01-01T00:00:00.000Z', seconds: 1.25 }])),
    notes: {},
  };
  writeFileSync(join(runDir, 'manifest.json'), JSON.stringify(manifest, null, 2));

  if (stages.has('ingest')) {
    const obs: Record<string, string[] | (string | null)[] | Float64Array> = { sample_id: sampleIds };
    if (labelled) obs.label = labels;
    obs.library_size = librarySize;
    writeFrame(join(runDir, STAGE_DIRS.ingest, 'obs.arrow'), obs);
    writeSummary(runDir, 'ingest', {
      files: [{ path: '/data/cohort.csv', format: 'csv', compression: null, bytes: 123_456, lines: n + 1, columns: nGenes + 2, samples: n, genes: nGenes, layout: 'samples-in-rows', excludedColumns: ['batch_note'], missingCells: 0, notes: [] }],
      nSamples: n,
      nGenes,
      nnz: Math.round(n * nGenes * 0.4),
      sparsity: 0.6,
      values: { min: 0, max: 4012, allIntegers: true, negativeCount: 0, anyNegative: false, missingCells: 0, missingPolicy: 'error' },
      librarySize: { min: 100, q25: 900, median: 1300, q75: 1800, max: 9000, mean: 1400 },
      excluded: [{ file: '/data/cohort.csv', columns: ['batch_note'] }],
      orientation: { layout: 'samples-in-rows', sampleIdsGeneLike: 0, geneIdsGeneLike: 1, sampleIdsSymbolLike: 0, suspicious: false, message: null },
      genes: { renamed: [], ensemblVersioned: 0, ensemblVersionConflicts: [], allZero: 3 },
      samplesAllZero: 0,
      labels: labelled ? { source: { file: '/data/cohort.csv', column: 'disease' }, counts: {}, nClasses: classes.length, nUnlabelled: labels.filter((l) => l === null).length } : null,
      metadata: null,
      warnings: [],
    });
  }

  if (stages.has('normalize')) {
    const dir = join(runDir, STAGE_DIRS.normalize);
    mkdirSync(dir, { recursive: true });
    const obs: Record<string, string[] | (string | null)[] | Float64Array> = { sample_id: sampleIds };
    if (labelled) obs.label = labels;
    obs.library_size = librarySize;
    writeFrame(join(dir, 'obs.arrow'), obs);
    const mean = Float64Array.from({ length: nGenes }, () => Math.exp(rng.normal(0, 1.2)));
    const dispersionNorm = Float64Array.from({ length: nGenes }, () => rng.normal(0, 1));
    const order = Array.from(dispersionNorm.keys()).sort((a, b) => dispersionNorm[b] - dispersionNorm[a]);
    const hvg = new Array<boolean>(nGenes).fill(false);
    for (const j of order.slice(0, nHvg)) hvg[j] = true;
    writeFrame(join(dir, 'var.arrow'), {
      gene_id: geneIds,
      symbol: symbols,
      n_samples_detected: Int32Array.from({ length: nGenes }, () => 1 + rng.int(n)),
      mean,
      dispersion: Float64Array.from(mean, (m) => m * (1 + rng.uniform())),
      dispersion_norm: dispersionNorm,
      highly_variable: hvg,
    });
    writeSummary(
      runDir,
      'normalize',
      {
        inputKind: 'counts',
        inputKindSource: 'detected',
        inputKindReason: 'every value is a non-negative integer',
        profile: { min: 0, max: 4012, allIntegers: true, negativeCount: 0, nonFiniteCount: 0, medianNonzero: 3, p99Nonzero: 120 },
        steps: [
          { step: 'filter-genes', applied: true, detail: `kept ${nGenes} of ${nGenes + 3} genes non-zero in at least 1 sample(s)` },
          { step: 'clip-negative', applied: false, detail: 'counts are never negative' },
          { step: 'library-size', applied: true, detail: 'each sample scaled to sum to 10000' },
          { step: 'log1p', applied: true, detail: 'natural log of 1 + value' },
          { step: 'highly-variable-genes', applied: true, detail: `top ${nHvg} genes by dispersion` },
          { step: 'scale', applied: true, detail: 'each gene centred to mean 0 and divided by its standard deviation' },
          { step: 'clip', applied: true, detail: '12 values clipped to [-10, 10]' },
        ],
        nSamples: n,
        genesIn: nGenes + 3,
        genesKept: nGenes,
        nHighlyVariable: nHvg,
        targetSum: 10_000,
        zeroLibrarySamples: [],
        constantGenes: 0,
      },
      ['1 selected gene(s) are constant across samples; they scale to 0'],
    );
  }

  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.normal(0, 3)));
  const umapCentres = Array.from({ length: k }, (_, c) => [8 * Math.cos((2 * Math.PI * c) / k), 8 * Math.sin((2 * Math.PI * c) / k)]);

  if (stages.has('train')) {
    const dir = join(runDir, STAGE_DIRS.train);
    mkdirSync(dir, { recursive: true });
    const z = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) z[i * d + j] = centres[group[i]][j] + rng.normal(0, 1);
    writeTable(join(dir, 'latent.arrow'), denseToTable({ nRows: n, nCols: d, data: z }, 'z', { name: 'sample_id', values: sampleIds }));
    const epochs = 20;
    const q = Math.min(1, 64 / n);
    const perEpoch = Math.max(1, Math.round(1 / q));
    const history = Array.from({ length: epochs }, (_, e) => ({
      epoch: e + 1,
      steps: (e + 1) * perEpoch,
      trainLoss: 120 * Math.exp(-e / 6) + 40 + rng.normal(0, 1),
      validationLoss: 125 * Math.exp(-e / 6) + 44 + rng.normal(0, 1),
      reconstruction: 110 * Math.exp(-e / 6) + 35,
      kl: 5 + 10 * (1 - Math.exp(-e / 4)),
      klWeight: Math.min(1, (e + 1) / 5),
      epsilon: dp ? 8 * Math.sqrt((e + 1) / epochs) : null,
      meanBatchSize: 64,
      clippedFraction: dp ? 0.9 - e * 0.02 : null,
      seconds: 0.8,
    }));
    writeFileSync(join(dir, 'history.json'), JSON.stringify(history));
    const nTrain = Math.round(n * 0.9);
    writeSummary(runDir, 'train', {
      nSamples: n,
      nTrain,
      nValidation: n - nTrain,
      nGenes: nHvg,
      likelihood: 'gaussian',
      likelihoodReason: 'auto: the input is not counts, so a Gaussian on the normalized values',
      architecture: { nGenes: nHvg, hiddenDims: [128], latentDim: d, dropout: 0, layerNorm: true, likelihood: 'gaussian', prior: 'normal', mixtureComponents: 1 },
      parameterCount: 2 * (nHvg * 128 + 128 * d) + 128 * d,
      epochsPlanned: epochs,
      epochsRun: epochs,
      bestEpoch: epochs - 2,
      earlyStopEpoch: null,
      klWarmupSteps: 5 * perEpoch,
      finalTrainLoss: history[epochs - 1].trainLoss,
      finalValidationLoss: history[epochs - 1].validationLoss,
      finalReconstruction: history[epochs - 1].reconstruction,
      finalKl: history[epochs - 1].kl,
      backend: { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', simd: true },
      workers: 1,
      seconds: { total: 18, training: 16, perEpoch: 0.8 },
      privacy: {
        dp,
        epsilon: dp ? 8 : null,
        targetEpsilon: dp ? 8 : null,
        delta: dp ? 1 / (10 * n) : null,
        noiseMultiplier: dp ? 1.1 : null,
        clipNorm: dp ? 1 : null,
        samplingRate: dp ? q : null,
        steps: epochs * perEpoch,
        plannedSteps: epochs * perEpoch,
        accountant: dp ? 'rdp' : null,
        sampling: dp ? 'poisson' : 'shuffled',
        ledgerEntryId: dp ? (options.ledgerEntryId ?? 'entry-0001') : null,
        randomness: dp ? 'system CSPRNG' : 'seeded stream',
        protectedSamples: nTrain,
        note: dp ? 'The guarantee covers the training split; validation samples were never used for gradients.' : 'No privacy guarantee.',
      },
    });
  }

  if (stages.has('cluster')) {
    const dir = join(runDir, STAGE_DIRS.cluster);
    mkdirSync(dir, { recursive: true });
    const umap = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      umap[2 * i] = umapCentres[group[i]][0] + rng.normal(0, 1);
      umap[2 * i + 1] = umapCentres[group[i]][1] + rng.normal(0, 1);
    }
    writeTable(join(dir, 'umap.arrow'), denseToTable({ nRows: n, nCols: 2, data: umap }, 'umap', { name: 'sample_id', values: sampleIds }));
    const pca = Int32Array.from(group, (g) => (rng.uniform() < 0.8 ? g : rng.int(k)));
    writeFrame(join(dir, 'clusters.arrow'), { sample_id: sampleIds, kmeans: group, louvain: group.slice(), pca_kmeans: pca });
    const sizes = (codes: Int32Array) => Array.from({ length: k }, (_, c) => codes.filter((g) => g === c).length);
    const counts = (codes: Int32Array) =>
      Array.from({ length: k }, (_, c) => classes.map((label) => sampleIds.filter((_, i) => codes[i] === c && labels[i] === label).length));
    const nLabelled = labels.filter((l) => l !== null).length;
    const curve = Array.from({ length: 7 }, (_, i) => ({ k: i + 2, silhouette: 0.6 - 0.05 * Math.abs(i + 2 - k), inertia: 5000 / (i + 2), nonEmptyClusters: i + 2 }));
    const resolutionCurve = [0.5, 1, 2].map((resolution, i) => ({ resolution, nClusters: k - 1 + i, silhouette: i === 1 ? 0.55 : 0.4, modularity: 0.5 + 0.05 * i }));
    const stability = Array.from({ length: k }, (_, c) => ({ cluster: c, size: sizes(group)[c], meanJaccard: Math.max(0.3, 0.95 - 0.15 * c), dissolved: Math.min(1, 0.05 * c), recovered: Math.max(0, 1 - 0.1 * c), resamples: 20 }));
    const agreement = (codes: Int32Array, ari: number) => (labelled ? { ari, nmi: ari - 0.02, nLabelled, nUnlabelled: n - nLabelled, counts: counts(codes) } : null);
    const heatmapGenes = geneIds.slice(0, 3 * k);
    writeSummary(runDir, 'cluster', {
      nSamples: n,
      latentDim: d,
      seed: 0,
      neighbors: { k: 15, method: n > 5000 ? 'nndescent' : 'exact', exactMaxSamples: 5000 },
      kmeans: { kMin: 2, kMax: 8, restarts: 5, curve, chosenK: k, silhouetteSamples: Math.min(n, 4000) },
      louvain: { resolution: 1, choice: 'auto', curve: resolutionCurve, silhouetteSamples: Math.min(n, 4000) },
      baseline: {
        nComponents: 50,
        nGenes: nHvg,
        pcaMethod: 'exact',
        explainedVarianceRatio: [0.2, 0.1, 0.05],
        curve: curve.map((p) => ({ ...p, silhouette: p.silhouette - 0.1 })),
        chosenK: k,
        resolutionCurve: resolutionCurve.map((p) => ({ ...p, silhouette: p.silhouette - 0.1 })),
      },
      labelClasses: labelled ? classes : null,
      clusterings: [
        { column: 'kmeans', method: 'kmeans', space: 'latent', nClusters: k, sizes: sizes(group), parameters: { k }, agreement: agreement(group, 0.71), stability },
        { column: 'louvain', method: 'louvain', space: 'latent', nClusters: k, sizes: sizes(group), parameters: { resolution: 1, modularity: 0.62 }, agreement: agreement(group, 0.7), stability },
        { column: 'pca_kmeans', method: 'kmeans', space: 'pca', nClusters: k, sizes: sizes(pca), parameters: { k }, agreement: agreement(pca, 0.52), stability: null },
      ],
      stability: { resamples: 20, fraction: 0.8 },
      mixturePrior: null,
      markers: {
        foldChange: 'log1p',
        nGenes,
        groupings: ['kmeans', 'louvain', ...(labelled ? ['label'] : [])].map((grouping) => {
          const groups = grouping === 'label' ? classes : Array.from({ length: k }, (_, c) => String(c));
          return {
            grouping,
            groups: groups.map((g, gi) => ({
              group: g,
              size: Math.round(n / groups.length),
              top: Array.from({ length: 10 }, (_, r) => ({ geneId: geneIds[(gi * 3 + r) % nGenes], symbol: symbols[(gi * 3 + r) % nGenes], statistic: 10 - r, p: 1e-6 * (r + 1), q: 1e-5 * (r + 1), effect: 2 - 0.1 * r, pctIn: 0.8, pctOut: 0.2 })),
            })),
            heatmap: { genes: heatmapGenes, symbols: heatmapGenes.map((_, j) => symbols[j]), groups, means: heatmapGenes.map((_, j) => groups.map((_, gi) => (Math.floor(j / 3) === gi ? 3 : 0.5) + rng.uniform())) },
          };
        }),
      },
      latentGenes: Array.from({ length: d }, (_, dim) => ({
        dimension: dim,
        top: Array.from({ length: 10 }, (_, r) => ({ geneId: geneIds[(dim + r) % nGenes], symbol: symbols[(dim + r) % nGenes], statistic: 1 / (r + 1), p: null, q: null, effect: (r % 2 ? -1 : 1) / (r + 1), pctIn: null, pctOut: null })),
      })),
      umap: { nNeighbors: 15, minDist: 0.1, nEpochs: 200 },
      timings: { neighbors: 0.5, kmeans: 1.2, louvain: 0.8, umap: 3.4, markers: 2, total: 8 },
    }, n > 20_000 ? ['silhouette computed on a subsample of 4000 samples'] : []);
  }

  if (stages.has('classify')) {
    const nLabelled = labels.filter((l) => l !== null).length;
    const model = (ba: number) => ({
      folds: {
        accuracy: { mean: ba + 0.02, sd: 0.03 },
        balancedAccuracy: { mean: ba, sd: 0.04 },
        macroF1: { mean: ba - 0.01, sd: 0.04 },
        aurocMacro: { mean: Math.min(0.99, ba + 0.08), sd: 0.02 },
        brier: { mean: 0.3, sd: 0.02 },
      },
      repeats: { accuracy: [ba], balancedAccuracy: [ba], macroF1: [ba], aurocMacro: [ba], brier: [0.3] },
      perClass: classes.map((label) => ({ label, precision: ba, recall: ba, f1: ba, support: Math.round(nLabelled / classes.length) })),
      confusion: classes.map((_, t) => classes.map((_, pr) => (t === pr ? Math.round((nLabelled / classes.length) * ba * 3) : Math.round((nLabelled / classes.length) * (1 - ba) * 1.5)))),
      roc: classes.map((label) => ({ label, fpr: [0, 0.05, 0.1, 0.3, 1], tpr: [0, 0.6, 0.8, 0.95, 1], auc: 0.9 })),
      calibration: { bins: Array.from({ length: 10 }, (_, b) => ({ lower: b / 10, upper: (b + 1) / 10, count: 10, meanConfidence: b / 10 + 0.05, accuracy: Math.min(1, b / 10 + 0.02) })), ece: 0.04 },
    });
    writeSummary(runDir, 'classify', labelled ? {
      status: 'done',
      skipReason: null,
      nSamples: n,
      nLabelled,
      nUnlabelled: n - nLabelled,
      droppedClasses: [],
      classes,
      classCounts: classes.map((label) => labels.filter((l) => l === label).length),
      latentDim: d,
      requestedFolds: 5,
      folds: 5,
      repeats: 3,
      learners: ['logistic', 'forest', 'knn', 'svm'],
      models: ['logistic', 'forest', 'knn', 'svm', 'voting', 'stacking'],
      classWeight: 'balanced',
      stackingSkipped: null,
      ensemble: 'stacking',
      chanceBalancedAccuracy: 1 / classes.length,
      results: { logistic: model(0.81), forest: model(0.79), knn: model(0.77), svm: model(0.8), voting: model(0.83), stacking: model(0.84) },
      bestLearner: 'logistic',
      ensembleAtLeastBest: { voting: true, stacking: true },
      ensembleComparison: {
        voting: { reference: 'logistic', difference: 0.02, standardError: 0.015, t: 1.33, degreesOfFreedom: 14, pValue: 0.204, verdict: 'no significant difference', alpha: 0.05 },
        stacking: { reference: 'logistic', difference: 0.03, standardError: 0.01, t: 3, degreesOfFreedom: 14, pValue: 0.012, verdict: 'better', alpha: 0.05 },
      },
      validation: { scheme: 'repeated stratified k-fold', fittedPerFold: ['classifiers', 'class weights'], fittedOnAllSamples: ['normalization statistics', 'gene selection', 'VAE'], labelsUsedUpstream: false, statement: 'The VAE and normalization saw every sample, test folds included, but never the labels.' },
      importance: { model: 'stacking', permutations: 5, metric: 'balanced accuracy drop', dimensions: Array.from({ length: d }, (_, j) => ({ dimension: j, mean: 0.1 / (j + 1), sd: 0.01 })), topGenes: geneIds.slice(0, 25).map((gene_id, j) => ({ gene_id, symbol: symbols[j], score: 1 / (j + 1) })), genesMissingReason: null },
      scaling: {
        svmMaxSamples: 5000,
        svmFinalTrainedOn: nLabelled,
        importanceMaxSamples: 2000,
        importanceRows: { min: Math.floor(nLabelled / 5), max: Math.ceil(nLabelled / 5) },
        notes: options.classifyScalingNotes ?? [],
      },
      pcaBaseline: {
        learner: 'logistic',
        nComponents: d,
        latent: { balancedAccuracy: { mean: 0.81, sd: 0.04 }, accuracy: { mean: 0.82, sd: 0.04 }, macroF1: { mean: 0.8, sd: 0.05 } },
        pca: { balancedAccuracy: { mean: 0.86, sd: 0.03 }, accuracy: { mean: 0.87, sd: 0.03 }, macroF1: { mean: 0.85, sd: 0.04 } },
        difference: -0.05,
        test: { difference: -0.05, standardError: 0.02, t: -2.5, degreesOfFreedom: 14, pValue: 0.0254, verdict: 'worse', alpha: 0.05 },
      },
      pcaBaselineSkipped: null,
      timings: { crossValidation: 12, finalFit: 2 },
    } : { status: 'skipped', skipReason: 'the cohort has no label column', nSamples: n, nLabelled: 0, nUnlabelled: n, results: {}, models: [] });
  }
}
