import type { CsrMatrix } from '../matrix/csr.js';
import { InputError } from '../util/errors.js';
import { CsrBatchBuilder } from './csrBatches.js';
import { describeDuplicates, duplicates, listNames, makeUnique } from './columns.js';

/** Largest magnitude of a Float32; X stores values as Float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** Running statistics of every value added, zeros included. */
export interface ValueStatistics {
  min: number;
  max: number;
  allIntegers: boolean;
  negativeCount: number;
}

/**
 * Accumulates the samples of one or more matrix files into sample-major CSR batches, with the
 * per-sample and per-gene statistics that obs and var carry. The first file fixes the gene
 * order; later files must have the same genes, in any order.
 */
export class CohortBuilder {
  geneIds: string[] | null = null;
  symbols: (string | null)[] | null = null;
  readonly sampleIds: string[] = [];
  /** Index into `files` of the file each sample came from. */
  readonly sampleFile: number[] = [];
  /** Labels read from a column of the matrix, when there is one. */
  readonly labels: (string | null)[] = [];
  /** Sample metadata columns read from the matrix (--obs-columns), by name. */
  readonly obs = new Map<string, (string | null)[]>();
  readonly librarySizes: number[] = [];
  readonly genesDetected: number[] = [];
  nSamplesDetected: Int32Array = new Int32Array(0);
  geneTotals: Float64Array = new Float64Array(0);
  /** Genes renamed by --make-unique, as {from, to}. */
  renamedGenes: { from: string; to: string }[] = [];
  private rows: CsrBatchBuilder | null = null;
  private storedMin = Infinity;
  private storedMax = -Infinity;
  private allIntegers = true;
  private negativeCount = 0;
  private scratch: Float32Array = new Float32Array(0);
  private cols: Int32Array = new Int32Array(0);
  private vals: Float32Array = new Float32Array(0);

  constructor(
    readonly files: string[],
    private readonly options: { makeUnique: boolean; samplePrefixes?: readonly string[] },
  ) {}

  get nGenes(): number {
    return this.geneIds?.length ?? 0;
  }

  get nSamples(): number {
    return this.sampleIds.length;
  }

  get nnz(): number {
    return this.rows?.nnz ?? 0;
  }

  /**
   * Aligns a file's gene names to the cohort's gene order and returns, for each of the file's
   * genes, its index in the cohort. The first call fixes the order. Duplicate names are an
   * error unless --make-unique was given.
   */
  alignGenes(names: string[], file: string, symbols: (string | null)[] | null = null): Int32Array {
    const found = duplicates(names);
    let unique = names;
    if (found.size > 0) {
      if (!this.options.makeUnique) {
        throw new InputError(
          `duplicate gene names: ${describeDuplicates(found)}`,
          { file },
          'give each gene one column (or row), or pass --make-unique to suffix repeats as scanpy does (TP53, TP53-1, …)',
        );
      }
      const made = makeUnique(names);
      unique = made.names;
      if (this.geneIds === null) this.renamedGenes = made.renamed;
    }
    if (this.geneIds === null) {
      this.start(unique, symbols);
      return Int32Array.from(unique, (_, j) => j);
    }
    return this.mapToCohort(unique, file);
  }

  private start(geneIds: string[], symbols: (string | null)[] | null): void {
    this.geneIds = geneIds;
    this.symbols = symbols;
    const n = geneIds.length;
    this.rows = new CsrBatchBuilder(n);
    this.nSamplesDetected = new Int32Array(n);
    this.geneTotals = new Float64Array(n);
    this.scratch = new Float32Array(n);
    this.cols = new Int32Array(n);
    this.vals = new Float32Array(n);
  }

  private mapToCohort(names: string[], file: string): Int32Array {
    const cohort = this.geneIds!;
    const position = new Map<string, number>();
    cohort.forEach((name, j) => position.set(name, j));
    const fileNames = new Set(names);
    const onlyHere = names.filter((name) => !position.has(name));
    const onlyThere = cohort.filter((name) => !fileNames.has(name));
    if (onlyHere.length > 0 || onlyThere.length > 0) {
      const parts: string[] = [];
      if (onlyThere.length > 0) parts.push(`${onlyThere.length} genes of ${this.files[0]} are missing here (${listNames(onlyThere, 5)})`);
      if (onlyHere.length > 0) parts.push(`${onlyHere.length} genes are not in ${this.files[0]} (${listNames(onlyHere, 5)})`);
      throw new InputError(
        `the gene list differs from the first file's: ${parts.join('; ')}`,
        { file },
        'files joined sample-wise must hold the same genes (in any order); subset them to the shared genes first',
      );
    }
    return Int32Array.from(names, (name) => position.get(name)!);
  }

  /**
   * Adds one sample from its values in the file's gene order. `fileCols[k]` is the file's gene
   * index of `values[k]`, and `target` maps file genes to cohort genes (from alignGenes).
   * Zeros are not stored, nor are values that round to 0 as Float32 (below about 1.4e-45).
   */
  addSample(id: string, fileIndex: number, fileCols: ArrayLike<number>, values: ArrayLike<number>, length: number, target: Int32Array | null): void {
    const scratch = this.scratch;
    const cols = this.cols;
    const vals = this.vals;
    let n = 0;
    if (target === null) {
      for (let k = 0; k < length; k++) {
        const v = Math.fround(values[k]);
        if (v === 0) continue;
        cols[n] = fileCols[k];
        vals[n] = v;
        n++;
      }
    } else {
      // Scatter into a dense scratch row in cohort order, then gather the non-zeros in order.
      // The scratch row is Float32, so a value that rounds to 0 is skipped below like a zero.
      for (let k = 0; k < length; k++) scratch[target[fileCols[k]]] = values[k];
      for (let j = 0; j < scratch.length; j++) {
        const v = scratch[j];
        if (v === 0) continue;
        cols[n] = j;
        vals[n] = v;
        n++;
        scratch[j] = 0;
      }
    }
    this.record(cols, vals, n);
    this.rows!.addRow(cols, vals, n);
    const prefixes = this.options.samplePrefixes;
    this.sampleIds.push(prefixes && prefixes.length > 0 ? `${prefixes[fileIndex]}_${id}` : id);
    this.sampleFile.push(fileIndex);
  }

  private record(cols: Int32Array, vals: Float32Array, n: number): void {
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const v = vals[k];
      sum += v;
      this.nSamplesDetected[cols[k]]++;
      this.geneTotals[cols[k]] += v;
      if (v < this.storedMin) this.storedMin = v;
      if (v > this.storedMax) this.storedMax = v;
      if (v < 0) this.negativeCount++;
      if (this.allIntegers && !Number.isInteger(v)) this.allIntegers = false;
    }
    this.librarySizes.push(sum);
    this.genesDetected.push(n);
  }

  /** Statistics over every cell, the implicit zeros included. */
  valueStatistics(): ValueStatistics {
    const hasZeros = this.nnz < this.nSamples * this.nGenes;
    let min = this.storedMin;
    let max = this.storedMax;
    if (hasZeros || this.nnz === 0) {
      min = Math.min(min, 0);
      max = Math.max(max, 0);
    }
    return { min, max, allIntegers: this.allIntegers, negativeCount: this.negativeCount };
  }

  /** Returns the sample-major row batches; call it once, after the last sample. */
  finish(): CsrMatrix[] {
    if (!this.rows) throw new Error('CohortBuilder.finish called before any gene list was set');
    return this.rows.finish();
  }
}

/** Builds the error for a value outside the Float32 range of X; callers test against FLOAT32_MAX first. */
export function float32RangeError(value: number, where: { file: string; line?: number; column?: string; sample?: string; gene?: string }): InputError {
  return new InputError(
    `${value} is outside the range of 32-bit floats (±3.4e38) that the matrix is stored in`,
    where,
    'rescale the values before ingest',
  );
}
