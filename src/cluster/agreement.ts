import { adjustedRandIndex, contingency, normalizedMutualInformation } from './metrics.js';

/** Agreement of one clustering with the known labels, on the labelled samples only. */
export interface LabelAgreement {
  /** Adjusted Rand index over the labelled samples. */
  ari: number;
  /** Normalized mutual information (arithmetic mean) over the labelled samples. */
  nmi: number;
  /** Samples counted (those with a label). */
  nLabelled: number;
  /** Samples left out because they have no label. */
  nUnlabelled: number;
  /** counts[c][l]: samples of cluster c (all clusters, 0..nClusters-1) with label classes[l]; unlabelled samples are left out. */
  counts: number[][];
}

/** Compares cluster codes (0..nClusters-1) with label codes (-1 = no label); callers ensure at least one sample is labelled. */
export function agreementWithLabels(
  clusters: ArrayLike<number>,
  labelCodes: ArrayLike<number>,
  nClasses: number,
): LabelAgreement {
  const kept: number[] = [];
  for (let i = 0; i < labelCodes.length; i++) if (labelCodes[i] >= 0) kept.push(i);
  const a = kept.map((i) => clusters[i]);
  const b = kept.map((i) => labelCodes[i]);
  let nClusters = 0;
  for (let i = 0; i < clusters.length; i++) nClusters = Math.max(nClusters, clusters[i] + 1);
  const counts = Array.from({ length: nClusters }, () => new Array<number>(nClasses).fill(0));
  const table = contingency(a, b);
  table.rows.forEach((cluster, i) => table.columns.forEach((label, j) => (counts[cluster][label] = table.counts[i][j])));
  return {
    ari: adjustedRandIndex(a, b),
    nmi: normalizedMutualInformation(a, b),
    nLabelled: kept.length,
    nUnlabelled: labelCodes.length - kept.length,
    counts,
  };
}
