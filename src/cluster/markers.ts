import erfc from '@stdlib/math-base-special-erfc';
import type { CsrMatrix } from '../matrix/csr.js';
import { transpose } from '../matrix/csr.js';

/** A partition of the samples to find markers for: each group is tested against all other grouped samples. */
export interface Grouping {
  /** Name written to markers.arrow (e.g. 'kmeans', 'louvain', 'label'). */
  name: string;
  /** Group names; codes index into this list. */
  groups: string[];
  /** Group code of each sample, -1 to leave the sample out of this grouping (e.g. no label). */
  codes: Int32Array;
}

/**
 * Scale of the values, which sets the log fold change formula. 'log1p': the values are log1p of normalized expression, and
 * the fold change is scanpy's log2((expm1(mean_in) + 1e-9) / (expm1(mean_out) + 1e-9)). 'log':
 * the input was already on a log scale of unknown base, and the fold change is mean_in - mean_out
 * on that scale (a log2 fold change when the input is log2, as most microarray data are).
 */
export type FoldChangeScale = 'log1p' | 'log';

/** Test results of every gene for one group, in gene order. */
export interface GroupMarkers {
  grouping: string;
  group: string;
  /** Samples in the group and in the rest. */
  nIn: number;
  nOut: number;
  /** z-score of the rank sum (positive: higher in the group). */
  statistic: Float64Array;
  /** Two-sided p-value, normal approximation with tie correction, no continuity correction. */
  p: Float64Array;
  /** Benjamini-Hochberg q-value over the genes of this group. */
  q: Float64Array;
  /** Log fold change of the group over the rest (see {@link FoldChangeScale}). */
  logFoldChange: Float64Array;
  /** Mean value in the group and in the rest, on the scale of the input matrix. */
  meanIn: Float64Array;
  meanOut: Float64Array;
  /** Fraction of the group's samples with a non-zero value. */
  pctIn: Float64Array;
  /** Fraction of the other samples with a non-zero value. */
  pctOut: Float64Array;
  /** Rank of each gene within the group by decreasing statistic, 1 = strongest marker. */
  rank: Int32Array;
}

/** Two-sided normal tail probability 2 * P(Z > |z|), accurate far into the tail (erfc from @stdlib). */
export function twoSidedNormalP(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2);
}

/** Benjamini-Hochberg step-up q-values: q_(i) = min over j >= i of p_(j) m / j, capped at 1, for p sorted ascending. */
export function benjaminiHochberg(p: ArrayLike<number>): Float64Array {
  const m = p.length;
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => p[a] - p[b]);
  const q = new Float64Array(m);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const i = order[r];
    running = Math.min(running, (p[i] * m) / (r + 1));
    q[i] = running;
  }
  return q;
}

/** Low bits of a float64 mantissa that a float32 value converted to float64 leaves zero. */
const POSITION_BITS = 29;
const POSITION_MASK = (1 << POSITION_BITS) - 1;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes the average rank of each of `values` into `ranks` and returns the tie term
 * sum(t^3 - t) over blocks of t equal values. Ranks start at 1, and tied values share the mean
 * of their positions.
 *
 * A float32 value widened to float64 leaves the low 29 bits of the mantissa zero, so each key
 * carries its value in the upper bits and its position in those low bits. One native numeric
 * sort of the keys then orders the values and recovers where each came from, about three times
 * faster than a comparator sort or a binary search per value (measured on 50,000 values). Keys of
 * equal values differ only in their position bits, so distinct values never swap order.
 * `values` must be finite, with fewer than 2^29 of them.
 */
export function tiedRanks(values: Float32Array, ranks: Float64Array): number {
  const m = values.length;
  if (m > POSITION_MASK) throw new Error(`tiedRanks: ${m} values exceed the ${POSITION_MASK} that the keys can index`);
  if (!LITTLE_ENDIAN) throw new Error('tiedRanks: the packed sort keys assume a little-endian platform');
  const keys = new Float64Array(m);
  const words = new Uint32Array(keys.buffer);
  for (let i = 0; i < m; i++) {
    keys[i] = values[i];
    words[2 * i] |= i;
  }
  keys.sort();
  let tieSum = 0;
  for (let start = 0; start < m; ) {
    // The low word without its position bits identifies the value, together with the high word.
    const high = words[2 * start + 1];
    const low = (words[2 * start] & ~POSITION_MASK) >>> 0;
    let end = start + 1;
    while (end < m && words[2 * end + 1] === high && (words[2 * end] & ~POSITION_MASK) >>> 0 === low) end++;
    const rank = (start + 1 + end) / 2;
    for (let p = start; p < end; p++) ranks[words[2 * p] & POSITION_MASK] = rank;
    const t = end - start;
    if (t > 1) tieSum += t ** 3 - t;
    start = end;
  }
  return tieSum;
}

/**
 * One-group-versus-rest Wilcoxon rank-sum tests of every gene, as scanpy's
 * `rank_genes_groups(method='wilcoxon', tie_correct=True)`: z = (R - n1 (n + 1) / 2) / sigma with
 * the tie-corrected sigma, p = 2 P(Z > |z|). This equals scipy's `mannwhitneyu(x, y,
 * alternative='two-sided', method='asymptotic', use_continuity=False)`.
 *
 * Each gene's values are ranked once and shared by every grouping over the same samples. Zeros
 * (implicit in the CSR matrix) form one tie block, so a gene costs O(nnz log nnz + n_groups).
 * `expression` rows are samples; only samples with a code >= 0 in some grouping take part, and
 * every grouping must leave out the same samples (callers split groupings by sample set).
 */
export function rankGenesGroups(expression: CsrMatrix, groupings: Grouping[], scale: FoldChangeScale): GroupMarkers[] {
  if (groupings.length === 0) return [];
  return rankGenesGroupsByGene(transpose(expression), groupings, scale);
}

/**
 * {@link rankGenesGroups} on the gene-major matrix: row g of `byGene` lists gene g's values and,
 * in its column indices, the samples that the grouping codes index. Callers that read the
 * matrix gene-major, or test several sample sets, save the transposed copy.
 */
export function rankGenesGroupsByGene(byGene: CsrMatrix, groupings: Grouping[], scale: FoldChangeScale): GroupMarkers[] {
  if (groupings.length === 0) return [];
  const nSamples = byGene.nCols;
  const included = groupings[0].codes;
  for (const grouping of groupings) {
    if (grouping.codes.length !== nSamples) {
      throw new Error(`grouping '${grouping.name}' has ${grouping.codes.length} codes for ${nSamples} samples`);
    }
    for (let i = 0; i < included.length; i++) {
      if (included[i] < 0 !== grouping.codes[i] < 0) {
        throw new Error(`grouping '${grouping.name}' leaves out different samples than '${groupings[0].name}'`);
      }
    }
  }
  const rowsKept: number[] = [];
  for (let i = 0; i < included.length; i++) if (included[i] >= 0) rowsKept.push(i);
  const n = rowsKept.length;
  const keptPosition = new Int32Array(nSamples).fill(-1);
  rowsKept.forEach((row, position) => (keptPosition[row] = position));

  const nGenes = byGene.nRows;
  const results: GroupMarkers[] = [];
  const groupSizes = groupings.map((grouping) => {
    const sizes = new Float64Array(grouping.groups.length);
    for (const code of grouping.codes) if (code >= 0) sizes[code] += 1;
    return sizes;
  });
  for (const [g, grouping] of groupings.entries()) {
    for (const [code, group] of grouping.groups.entries()) {
      const nIn = groupSizes[g][code];
      results.push({
        grouping: grouping.name,
        group,
        nIn,
        nOut: n - nIn,
        statistic: new Float64Array(nGenes),
        p: new Float64Array(nGenes),
        q: new Float64Array(nGenes),
        logFoldChange: new Float64Array(nGenes),
        meanIn: new Float64Array(nGenes),
        meanOut: new Float64Array(nGenes),
        pctIn: new Float64Array(nGenes),
        pctOut: new Float64Array(nGenes),
        rank: new Int32Array(nGenes),
      });
    }
  }

  // Per gene and group: rank sum, value sum and non-zero count of the group's samples.
  const nGroupsTotal = results.length;
  const rankSums = new Float64Array(nGroupsTotal);
  const valueSums = new Float64Array(nGroupsTotal);
  const nonzeroCounts = new Float64Array(nGroupsTotal);
  const offsets = groupings.map((_, g) => groupings.slice(0, g).reduce((total, earlier) => total + earlier.groups.length, 0));
  let values = new Float32Array(1024);
  let sampleOf = new Int32Array(1024);
  let ranks = new Float64Array(1024);

  for (let gene = 0; gene < nGenes; gene++) {
    const start = byGene.indptr[gene];
    const end = byGene.indptr[gene + 1];
    if (end - start > values.length) {
      values = new Float32Array(end - start);
      sampleOf = new Int32Array(end - start);
      ranks = new Float64Array(end - start);
    }
    // Non-zero values of the included samples; stored zeros join the zero block.
    let m = 0;
    let total = 0;
    for (let k = start; k < end; k++) {
      const position = keptPosition[byGene.indices[k]];
      const value = byGene.data[k];
      if (position < 0 || value === 0) continue;
      values[m] = value;
      sampleOf[m] = byGene.indices[k];
      total += value;
      m++;
    }
    const nonzero = values.subarray(0, m);
    const zeros = n - m;
    let negatives = 0;
    for (let e = 0; e < m; e++) if (nonzero[e] < 0) negatives++;
    const zeroRank = negatives + (zeros + 1) / 2;
    const tieSum = tiedRanks(nonzero, ranks.subarray(0, m)) + (zeros > 1 ? zeros ** 3 - zeros : 0);

    rankSums.fill(0);
    valueSums.fill(0);
    nonzeroCounts.fill(0);
    for (let e = 0; e < m; e++) {
      const value = nonzero[e];
      // Ranks among the non-zero values; the zero block sits between the negative and positive ones.
      const rank = ranks[e] + (value < 0 ? 0 : zeros);
      const row = sampleOf[e];
      for (let g = 0; g < groupings.length; g++) {
        const slot = offsets[g] + groupings[g].codes[row];
        rankSums[slot] += rank;
        valueSums[slot] += value;
        nonzeroCounts[slot] += 1;
      }
    }

    const tieFactor = n > 1 ? 1 - tieSum / (n ** 3 - n) : 0;
    for (let g = 0; g < groupings.length; g++) {
      for (let code = 0; code < groupings[g].groups.length; code++) {
        const slot = offsets[g] + code;
        const result = results[slot];
        const nIn = result.nIn;
        const nOut = result.nOut;
        const rankSum = rankSums[slot] + (nIn - nonzeroCounts[slot]) * zeroRank;
        const sigma = Math.sqrt((tieFactor * nIn * nOut * (n + 1)) / 12);
        const centred = rankSum - (nIn * (n + 1)) / 2;
        const z = sigma > 0 ? centred / sigma : 0;
        result.statistic[gene] = z;
        result.p[gene] = sigma > 0 ? twoSidedNormalP(z) : 1;
        const meanIn = nIn > 0 ? valueSums[slot] / nIn : 0;
        const meanOut = nOut > 0 ? (total - valueSums[slot]) / nOut : 0;
        result.meanIn[gene] = meanIn;
        result.meanOut[gene] = meanOut;
        result.logFoldChange[gene] =
          scale === 'log1p'
            ? Math.log2((Math.expm1(meanIn) + 1e-9) / (Math.expm1(meanOut) + 1e-9))
            : meanIn - meanOut;
        result.pctIn[gene] = nIn > 0 ? nonzeroCounts[slot] / nIn : 0;
        result.pctOut[gene] = nOut > 0 ? (m - nonzeroCounts[slot]) / nOut : 0;
      }
    }
  }

  for (const result of results) {
    result.q.set(benjaminiHochberg(result.p));
    const order = Array.from({ length: nGenes }, (_, i) => i).sort(
      (a, b) => result.statistic[b] - result.statistic[a] || a - b,
    );
    order.forEach((gene, r) => (result.rank[gene] = r + 1));
  }
  return results;
}
