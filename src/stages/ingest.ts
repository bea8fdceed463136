import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { IngestOptions } from '../../pipeline/ingest.js';
import { writeFrame, type Frame } from '../io/arrow.js';
import { MissingValues } from '../io/cells.js';
import { checkOrientation, findEnsemblVersionConflicts, type EnsemblVersionConflict, type OrientationCheck } from '../io/checks.js';
import { CohortBuilder, type ValueStatistics } from '../io/cohortBuilder.js';
import { describeChoices, describeDuplicates, duplicates, listNames } from '../io/columns.js';
import { writeCsrBatchesAtomic } from '../io/csrWriter.js';
import { hasColumn, joinMetadata, readMetadataTable, type MetadataColumn, type MetadataJoin, type MetadataTable } from '../io/metadata.js';
import { readArrowMatrix } from '../io/arrowMatrix.js';
import { findMinimlXml, minimlPartError, readMinimlSeries, type MinimlReport } from '../io/miniml.js';
import { sniffFile } from '../io/source.js';
import { findTenxFiles, readTenxMatrix, tenxPartError } from '../io/tenx.js';
import { readTextMatrix, type MatrixFileReport, type MatrixReadSpec } from '../io/textMatrix.js';
import type { CsrMatrix } from '../matrix/csr.js';
import { rowFingerprints } from '../matrix/fingerprint.js';
import { FILES } from '../run/layout.js';
import type { StageContext, StageResult } from '../run/stage.js';
import { InputError } from '../util/errors.js';

/** One input file as the summary records it. */
export interface IngestFileSummary {
  path: string;
  format: 'csv' | 'tsv' | 'arrow' | 'mtx' | 'geo-miniml';
  compression: 'gzip' | null;
  bytes: number;
  /** Lines of a text file (header included) or rows of an Arrow table. */
  lines: number;
  /** Data rows (after the header). */
  rows: number;
  columns: number;
  samples: number;
  genes: number;
  layout: 'samples-in-rows' | 'genes-in-rows';
  excludedColumns: string[];
  missingCells: number;
  notes: string[];
}

/** Five-number summary plus mean of the per-sample sums. */
export interface LibrarySizeSummary {
  min: number;
  q25: number;
  median: number;
  q75: number;
  max: number;
  mean: number;
}

export interface LabelSummary {
  /** Origin of the labels: the matrix or the metadata file, and the column. */
  source: { file: string; column: string };
  /** Samples per class, largest class first. */
  counts: Record<string, number>;
  nClasses: number;
  nUnlabelled: number;
}

export interface MetadataSummary {
  file: string;
  idColumn: string;
  /** Metadata columns written to obs (the label column excluded). */
  columns: string[];
  matchedSamples: number;
  /** Matrix samples without a metadata row: count and up to 10 examples. */
  unmatchedSamples: { count: number; examples: string[] };
  /** Metadata rows that name no sample of the matrix: count and up to 10 examples. */
  extraRows: { count: number; examples: string[] };
}

/** The ingest summary (01-ingest/summary.json `summary`), read by the report. */
export interface IngestSummary {
  files: IngestFileSummary[];
  nSamples: number;
  nGenes: number;
  /** Stored (non-zero) values. */
  nnz: number;
  /** Fraction of cells that are zero. */
  sparsity: number;
  values: ValueStatistics & {
    anyNegative: boolean;
    /** Cells that were empty or declared missing (stored as 0 under --missing zero). */
    missingCells: number;
    missingPolicy: 'error' | 'zero';
  };
  librarySize: LibrarySizeSummary;
  /** Columns left out, per file. */
  excluded: { file: string; columns: string[] }[];
  orientation: OrientationCheck;
  genes: {
    /** Genes renamed by --make-unique. */
    renamed: { from: string; to: string }[];
    ensemblVersioned: number;
    ensemblVersionConflicts: EnsemblVersionConflict[];
    /** Genes that are zero in every sample. */
    allZero: number;
  };
  /** Samples whose values are all zero. */
  samplesAllZero: number;
  /** Samples whose values equal an earlier sample's (a copy under another id or from another input). */
  samplesDuplicated: number;
  labels: LabelSummary | null;
  metadata: MetadataSummary | null;
  warnings: string[];
}

const RESERVED_OBS = new Set(['sample_id', 'label', 'library_size', 'n_genes_detected']);

/**
 * Reads the matrix files and their labels and writes, into ctx.outputDir:
 * - obs.arrow: sample_id (utf8, unique), and label (utf8, null when unknown) when a label
 *   column was given. Then the metadata columns (numbers as float64, text as utf8),
 *   library_size (float64, the sum of the values as read) and n_genes_detected (int32,
 *   non-zero values).
 * - var.arrow: gene_id (utf8, unique); symbol (utf8) when a symbol column was given;
 *   n_samples_detected (int32, samples with a non-zero value); total (float64, sum over samples).
 * - X.arrow: samples × genes CSR (`indices: List<Int32>`, `values: List<Float32>`), the values
 *   as read and never transformed, apart from the rounding to Float32 that the format implies.
 * Returns an IngestSummary. Bad input raises an InputError that names the file, line, column,
 * sample or gene and tells the user what to do.
 */
export async function runIngest(ctx: StageContext, options: IngestOptions): Promise<StageResult> {
  if (options.inputs.length === 0) {
    throw new InputError('no input matrix was given', {}, 'pass one or more CSV, TSV or Arrow files');
  }
  if (options.labelColumn !== null && options.metadataLabelColumn !== null) {
    throw new InputError(
      `both --label-column '${options.labelColumn}' and --metadata-label-column '${options.metadataLabelColumn}' were given`,
      {},
      'give one: --label-column looks in the matrix and then in the metadata',
    );
  }
  const warnings: string[] = [];
  const missing = new MissingValues(options.naValues);
  checkSamplePrefixes(options);
  const cohort = new CohortBuilder(options.inputs, { makeUnique: options.makeUnique, samplePrefixes: options.samplePrefixes });
  const reports: MatrixFileReport[] = [];

  // The metadata is small: read it first so that a wrong column name fails before a long read.
  let table = options.metadata !== null ? await readMetadataTable(options.metadata) : null;
  if (table && options.metadataLabelColumn !== null && !hasColumn(table, options.metadataLabelColumn)) {
    throw new InputError(
      `label column '${options.metadataLabelColumn}' (--metadata-label-column) is not in the metadata`,
      { file: table.path, line: 1 },
      describeChoices(options.metadataLabelColumn, table.columns),
    );
  }
  const labelInMetadata = table !== null && options.labelColumn !== null && hasColumn(table, options.labelColumn);
  if (options.labelColumn !== null && options.genesInRows && !labelInMetadata) {
    throw new InputError(
      `label column '${options.labelColumn}' cannot be read from a genes-in-rows matrix${table ? ' and is not in the metadata' : ''}`,
      { file: table?.path ?? options.inputs[0] },
      table ? describeChoices(options.labelColumn, table.columns) : 'give the labels in a metadata file with --metadata',
    );
  }

  for (let fileIndex = 0; fileIndex < options.inputs.length; fileIndex++) {
    const path = options.inputs[fileIndex];
    reports.push(await readMatrixFile(ctx, path, fileIndex, options, missing, cohort, table?.columns ?? null));
  }
  if (cohort.nSamples === 0 || cohort.nGenes === 0) {
    throw new InputError(`the matrix is empty (${cohort.nSamples} samples × ${cohort.nGenes} genes)`, { file: options.inputs[0] });
  }
  checkUniqueSamples(cohort);
  for (const [name, column] of cohort.obs) {
    if (column.length !== cohort.nSamples) {
      throw new InputError(
        `sample metadata column '${name}' (--obs-columns) is in some matrix files but not in all`,
        { column: name },
        'give every file the same metadata columns, or put the metadata in one file passed with --metadata',
      );
    }
  }
  for (const report of reports) {
    for (const note of report.notes) ctx.log.info(`${basename(report.path)}: ${note}`);
  }

  // A GEO series carries its sample annotations, which serve as metadata unless --metadata is given.
  const annotations = seriesAnnotations(reports);
  if (table === null && annotations !== null) table = annotations;
  if (table === null && (options.metadataLabelColumn !== null || options.metadataIdColumn !== null)) {
    const flag = options.metadataLabelColumn !== null ? '--metadata-label-column' : '--metadata-id-column';
    throw new InputError(`${flag} names a column of the metadata file, but no --metadata was given`, {}, 'pass the file with --metadata, or use --label-column for a label column of the matrix');
  }

  const labelsInMatrix = resolveMatrixLabels(options, reports);
  let labels: (string | null)[] | null = labelsInMatrix ? cohort.labels : null;
  let labelSource: { file: string; column: string } | null = labelsInMatrix
    ? { file: options.inputs[0], column: options.labelColumn! }
    : null;

  let metadataSummary: MetadataSummary | null = null;
  let metadataColumns = new Map<string, MetadataColumn>();
  if (table !== null) {
    const metadataPath = table.path;
    const metadataLabel = options.metadataLabelColumn ?? (labelsInMatrix ? null : options.labelColumn);
    if (metadataLabel !== null && !hasColumn(table, metadataLabel)) {
      const matrixColumns = options.genesInRows ? [] : headerNames(reports);
      throw new InputError(
        `label column '${metadataLabel}' is not in the metadata${matrixColumns.length > 0 ? ' nor in the matrix' : ''}`,
        { file: metadataPath },
        describeChoices(metadataLabel, [...table.columns, ...matrixColumns]),
      );
    }
    const join = joinMetadata(table, cohort.sampleIds, { idColumn: table === annotations ? null : options.metadataIdColumn, labelColumn: metadataLabel, missing });
    metadataSummary = summarizeJoin(metadataPath, join);
    metadataColumns = join.columns;
    if (join.labels) {
      labels = join.labels;
      labelSource = { file: metadataPath, column: join.labelColumn! };
    }
    if (join.missingSamples.length > 0) {
      warnings.push(
        `${join.missingSamples.length} of ${cohort.nSamples} samples have no row in ${basename(metadataPath)} ` +
          `(${listNames(join.missingSamples, 5)}); their label and metadata are empty`,
      );
    }
    if (join.extraIds.length > 0) {
      ctx.log.info(`${join.extraIds.length} rows of ${basename(metadataPath)} name no sample of the matrix (${listNames(join.extraIds, 5)})`);
    }
  } else if (options.labelColumn !== null && !labelsInMatrix) {
    const cellRanger = reports.find((report) => report.format === 'mtx');
    if (cellRanger) {
      throw new InputError(
        `label column '${options.labelColumn}' cannot be read from a Cell Ranger matrix, which has no sample columns`,
        { file: cellRanger.path },
        'give the labels in a metadata file keyed by barcode with --metadata',
      );
    }
    throw new InputError(
      options.genesInRows
        ? `label column '${options.labelColumn}' cannot be read from a genes-in-rows matrix`
        : `label column '${options.labelColumn}' is not in the matrix`,
      { file: options.inputs[0], line: 1 },
      options.genesInRows
        ? 'give the labels in a metadata file with --metadata'
        : `${describeChoices(options.labelColumn, headerNames(reports))}; or give the labels in a metadata file with --metadata`,
    );
  }

  const labelSummary = labels && labelSource ? summarizeLabels(labels, labelSource, warnings) : null;

  const batches = cohort.finish();
  const geneIds = cohort.geneIds!;
  const copies = duplicatedSamples(batches, geneIds, cohort.sampleIds);
  if (copies.length > 0) {
    warnings.push(
      `${copies.length} samples have the same values as another sample (${copies.slice(0, 3).map(([copy, first]) => `'${copy}' = '${first}'`).join(', ')}). ` +
        'A sample read twice can sit on both sides of a cross-validation split and inflate the scores; remove the copies unless they are real replicates',
    );
  }
  // A Cell Ranger matrix or a GEO series fixes which axis contains the samples, so no swap is suggested.
  const fixedLayout = reports.every((report) => report.format === 'mtx' || report.format === 'geo-miniml');
  const checked = checkOrientation(cohort.sampleIds, geneIds, options.genesInRows);
  const orientation = fixedLayout ? { ...checked, suspicious: false, message: null } : checked;
  if (orientation.message) warnings.push(orientation.message);
  const ensembl = findEnsemblVersionConflicts(geneIds);
  if (ensembl.conflicts.length > 0) {
    const examples = ensembl.conflicts.slice(0, 3).map((c) => c.ids.join(' and ')).join('; ');
    warnings.push(
      `${ensembl.conflicts.length} Ensembl ids occur both with and without a version suffix, or with several versions ` +
        `(${examples}); they may be the same gene counted twice: strip the versions and merge them before ingest`,
    );
  }
  if (cohort.renamedGenes.length > 0) {
    warnings.push(`--make-unique renamed ${cohort.renamedGenes.length} repeated gene names (${cohort.renamedGenes.slice(0, 3).map((r) => `${r.from} → ${r.to}`).join(', ')})`);
  }
  const values = cohort.valueStatistics();
  if (values.negativeCount > 0) {
    ctx.log.info(`${values.negativeCount} values are negative (minimum ${values.min}); kept as read, normalize decides how to treat them`);
  }
  const missingCells = reports.reduce((sum, report) => sum + report.missingCells, 0);
  if (missingCells > 0) warnings.push(`${missingCells} missing cells were stored as 0 (--missing zero)`);
  const allZeroGenes = cohort.nSamplesDetected.reduce((count, n) => count + (n === 0 ? 1 : 0), 0);
  const allZeroSamples = cohort.genesDetected.reduce((count, n) => count + (n === 0 ? 1 : 0), 0);
  if (allZeroSamples > 0) warnings.push(`${allZeroSamples} samples have only zeros`);

  const xBytes = await writeCsrBatchesAtomic(join(ctx.outputDir, FILES.X), batches);
  writeFrame(join(ctx.outputDir, FILES.obs), buildObs(cohort, labels, metadataColumns, warnings));
  const varFrame: Frame = { gene_id: geneIds };
  if (cohort.symbols) varFrame.symbol = cohort.symbols;
  varFrame.n_samples_detected = cohort.nSamplesDetected;
  varFrame.total = cohort.geneTotals;
  writeFrame(join(ctx.outputDir, FILES.var), varFrame);

  const cells = cohort.nSamples * cohort.nGenes;
  const summary: IngestSummary = {
    files: reports.map(fileSummary),
    nSamples: cohort.nSamples,
    nGenes: cohort.nGenes,
    nnz: cohort.nnz,
    sparsity: cells === 0 ? 0 : 1 - cohort.nnz / cells,
    values: { ...values, anyNegative: values.negativeCount > 0, missingCells, missingPolicy: options.missing },
    librarySize: summarizeLibrarySizes(cohort.librarySizes),
    excluded: reports.filter((r) => r.excludedColumns.length > 0).map((r) => ({ file: r.path, columns: r.excludedColumns })),
    orientation,
    genes: {
      renamed: cohort.renamedGenes,
      ensemblVersioned: ensembl.versioned,
      ensemblVersionConflicts: ensembl.conflicts,
      allZero: allZeroGenes,
    },
    samplesAllZero: allZeroSamples,
    samplesDuplicated: copies.length,
    labels: labelSummary,
    metadata: metadataSummary,
    warnings,
  };
  ctx.log.info(
    `${summary.nSamples} samples × ${summary.nGenes} genes, ${(summary.sparsity * 100).toFixed(1)}% zeros, ` +
      `X.arrow ${(xBytes / 1e6).toFixed(1)} MB`,
  );
  return { summary: { ...summary }, warnings };
}

async function readMatrixFile(
  ctx: StageContext,
  path: string,
  fileIndex: number,
  options: IngestOptions,
  missing: MissingValues,
  cohort: CohortBuilder,
  metadataColumns: string[] | null,
): Promise<MatrixFileReport> {
  const bundle = await readBundle(path, fileIndex, options, missing, cohort);
  if (bundle) return bundle;
  const kind = sniffFile(path);
  if (kind === 'empty') {
    throw new InputError('the file is empty (0 bytes)', { file: path }, 'check that the file was written or downloaded completely');
  }
  const isArrow = kind === 'arrow-file' || kind === 'arrow-stream';
  if (options.format === 'arrow' && !isArrow) {
    throw new InputError('--input-format arrow was given but the file is not an Arrow IPC or Feather v2 file', { file: path }, 'drop --input-format to detect the format');
  }
  const spec: MatrixReadSpec = {
    format: options.format === 'arrow' ? 'auto' : options.format,
    genesInRows: options.genesInRows,
    idColumn: options.idColumn,
    labelColumn: options.labelColumn,
    labelColumnsElsewhere: metadataColumns,
    obsColumns: options.obsColumns,
    symbolColumn: options.symbolColumn,
    excludeColumns: options.excludeColumns,
    missing,
    missingPolicy: options.missing,
  };
  const totalMb = Math.max(1, Math.ceil(statSync(path).size / 1e6));
  const progress = ctx.log.progress(`reading ${basename(path)}, MB`, totalMb);
  spec.onProgress = (bytesRead, records) => progress.update(Math.min(totalMb, Math.round(bytesRead / 1e6)), `${records} rows`);
  const report = isArrow
    ? await readArrowMatrix(path, fileIndex, spec, cohort)
    : await readTextMatrix(path, kind, fileIndex, spec, cohort);
  progress.finish(`${report.samples} samples × ${report.genes} genes`);
  return report;
}

/** Returns true when `path` is read as a Cell Ranger matrix or a GEO MINiML series, whose layout is fixed. */
export function isBundleInput(path: string): boolean {
  try {
    return findTenxFiles(path) !== null || findMinimlXml(path) !== null;
  } catch (error) {
    // A bundle with a missing part is still a bundle, while a missing path is not.
    return error instanceof InputError;
  }
}

/**
 * Reads a Cell Ranger matrix (directory or .mtx) or a GEO MINiML series (directory or .xml);
 * returns null for any other path, which is read as one CSV, TSV or Arrow file.
 */
async function readBundle(
  path: string,
  fileIndex: number,
  options: IngestOptions,
  missing: MissingValues,
  cohort: CohortBuilder,
): Promise<MatrixFileReport | null> {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return null; // the file reader reports a missing path
  }

  const part = isDirectory ? null : (tenxPartError(path) ?? minimlPartError(path));
  if (part) throw part;
  const tenx = findTenxFiles(path);
  const xml = tenx ? null : findMinimlXml(path);
  if (!tenx && !xml) {
    if (!isDirectory) return null;
    throw new InputError(
      'the directory contains neither a Cell Ranger matrix (matrix.mtx[.gz]) nor a GEO MINiML series (an .xml file)',
      { file: path },
      'give a matrix file, a Cell Ranger output directory or an unpacked GEO family archive',
    );
  }

  const layoutOptions = [
    options.genesInRows && '--genes-in-rows',
    options.idColumn !== null && '--id-column',
    options.symbolColumn !== null && '--symbol-column',
    options.excludeColumns.length > 0 && '--exclude-columns',
    options.obsColumns.length > 0 && '--obs-columns',
    options.format !== 'auto' && '--input-format',
  ].filter((flag): flag is string => typeof flag === 'string');
  const kind = tenx ? 'a Cell Ranger matrix' : 'a GEO MINiML series';
  if (layoutOptions.length > 0) {
    throw new InputError(
      `${layoutOptions.join(', ')} ${layoutOptions.length === 1 ? 'applies' : 'apply'} to CSV, TSV and Arrow tables, not to ${kind}, whose layout is fixed`,
      { file: path },
      `drop ${layoutOptions.join(' and ')}`,
    );
  }

  const spec: MatrixReadSpec = {
    format: 'auto',
    genesInRows: false,
    idColumn: null,
    labelColumn: null,
    obsColumns: [],
    symbolColumn: null,
    excludeColumns: [],
    missing,
    missingPolicy: options.missing,
  };
  const report = tenx ? await readTenxMatrix(tenx, fileIndex, spec, cohort) : await readMinimlSeries(xml!, fileIndex, spec, cohort);
  // The input as given names the bundle, as in the manifest, whose fingerprint covers the files read.
  return { ...report, path };
}

/** Checks --sample-id-prefix: one non-empty prefix per input, all different. */
function checkSamplePrefixes(options: IngestOptions): void {
  const prefixes = options.samplePrefixes;
  if (prefixes.length === 0) return;
  const hint = 'give --sample-id-prefix once per input, in the order of the inputs, each a different non-empty text';
  if (prefixes.length !== options.inputs.length) {
    throw new InputError(`${prefixes.length} sample id prefixes were given for ${options.inputs.length} inputs`, {}, hint);
  }
  if (prefixes.some((prefix) => prefix.trim() === '')) throw new InputError('a sample id prefix is empty', {}, hint);
  const repeated = duplicates(prefixes);
  if (repeated.size > 0) throw new InputError(`sample id prefixes repeat: ${describeDuplicates(repeated)}`, {}, hint);
}

/** Returns [copy, original] id pairs for samples whose values equal an earlier sample's; all-zero samples are not compared. */
function duplicatedSamples(batches: CsrMatrix[], geneIds: readonly string[], sampleIds: readonly string[]): [string, string][] {
  const first = new Map<string, number>();
  const copies: [string, string][] = [];
  let row = 0;
  for (const batch of batches) {
    for (const fingerprint of rowFingerprints(batch, geneIds)) {
      if (fingerprint !== null) {
        const earlier = first.get(fingerprint);
        if (earlier === undefined) first.set(fingerprint, row);
        else copies.push([sampleIds[row], sampleIds[earlier]]);
      }
      row++;
    }
  }
  return copies;
}

/** Returns the sample annotations of the GEO series among the inputs (merged when there are several), or null when there are none. */
function seriesAnnotations(reports: MatrixFileReport[]): MetadataTable | null {
  const tables = reports.filter((report): report is MinimlReport => 'annotations' in report).map((report) => report.annotations);
  if (tables.length <= 1) return tables[0] ?? null;
  const columns = [...new Set(tables.flatMap((table) => table.columns))];
  return {
    path: tables.map((table) => table.path).join(' + '),
    columns,
    rows: tables.flatMap((table) => table.rows.map((row) => columns.map((name) => row[table.columns.indexOf(name)] ?? ''))),
    lines: tables.flatMap((table) => table.lines),
  };
}

/** Returns true when the label column is in every matrix file, and throws when only some have it. */
function resolveMatrixLabels(options: IngestOptions, reports: MatrixFileReport[]): boolean {
  if (options.labelColumn === null || options.genesInRows) return false;
  const found = reports.filter((r) => r.labelColumnFound);
  if (found.length === 0) return false;
  if (found.length < reports.length) {
    const without = reports.filter((r) => !r.labelColumnFound).map((r) => r.path);
    throw new InputError(
      `label column '${options.labelColumn}' is in ${found.length} of ${reports.length} matrix files`,
      { file: without[0] },
      'every file joined sample-wise needs the label column, or give the labels in a metadata file',
    );
  }
  return true;
}

function headerNames(reports: MatrixFileReport[]): string[] {
  return reports[0]?.columnNames ?? [];
}

function checkUniqueSamples(cohort: CohortBuilder): void {
  const found = duplicates(cohort.sampleIds);
  if (found.size === 0) return;
  const files = new Set<number>();
  cohort.sampleIds.forEach((id, s) => {
    if (found.has(id)) files.add(cohort.sampleFile[s]);
  });
  const where = [...files].map((f) => cohort.files[f]);
  throw new InputError(
    `duplicate sample ids: ${describeDuplicates(found)}`,
    { file: where.join(', ') },
    where.length > 1
      ? 'the inputs joined sample-wise share sample ids (Cell Ranger barcodes repeat across libraries), and each sample must appear once across all inputs; ' +
          'give each input a prefix with --sample-id-prefix (once per input, in order)'
      : 'each sample must appear once; remove or rename the repeated ones',
  );
}

function summarizeJoin(file: string, join: MetadataJoin): MetadataSummary {
  return {
    file,
    idColumn: join.idColumn,
    columns: [...join.columns.keys()],
    matchedSamples: join.matched,
    unmatchedSamples: { count: join.missingSamples.length, examples: join.missingSamples.slice(0, 10) },
    extraRows: { count: join.extraIds.length, examples: join.extraIds.slice(0, 10) },
  };
}

function summarizeLabels(labels: (string | null)[], source: { file: string; column: string }, warnings: string[]): LabelSummary {
  const counts = new Map<string, number>();
  let unlabelled = 0;
  for (const label of labels) {
    if (label === null) unlabelled++;
    else counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  if (counts.size === 0) {
    throw new InputError(
      `label column '${source.column}' has no values for any sample`,
      { file: source.file, column: source.column },
      'choose the column that holds the labels, or leave out the label option',
    );
  }
  if (counts.size === 1) {
    warnings.push(`label column '${source.column}' has a single class ('${[...counts.keys()][0]}'); classification needs at least two`);
  }
  if (unlabelled > 0) {
    warnings.push(`${unlabelled} of ${labels.length} samples have no label; they are kept, and left out where labels are needed`);
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { source, counts: Object.fromEntries(sorted), nClasses: counts.size, nUnlabelled: unlabelled };
}

function buildObs(
  cohort: CohortBuilder,
  labels: (string | null)[] | null,
  metadata: Map<string, MetadataColumn>,
  warnings: string[],
): Frame {
  const obs: Frame = { sample_id: cohort.sampleIds };
  if (labels) obs.label = labels;
  const extra = new Map<string, MetadataColumn>([...cohort.obs, ...metadata]);
  for (const [name, column] of extra) {
    let key = name;
    if (RESERVED_OBS.has(key) || key in obs) {
      key = `metadata_${name}`;
      warnings.push(`metadata column '${name}' is written to obs as '${key}' because '${name}' is taken`);
    }
    obs[key] = column;
  }
  obs.library_size = Float64Array.from(cohort.librarySizes);
  obs.n_genes_detected = Int32Array.from(cohort.genesDetected);
  return obs;
}

/** Summarizes library sizes; quantiles interpolate linearly between order statistics (numpy's default). */
function summarizeLibrarySizes(sizes: readonly number[]): LibrarySizeSummary {
  const sorted = Float64Array.from(sizes).sort();
  const quantile = (q: number) => {
    if (sorted.length === 0) return NaN;
    const position = q * (sorted.length - 1);
    const low = Math.floor(position);
    const high = Math.min(sorted.length - 1, low + 1);
    return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
  };
  const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length);
  return { min: quantile(0), q25: quantile(0.25), median: quantile(0.5), q75: quantile(0.75), max: quantile(1), mean };
}

function fileSummary(report: MatrixFileReport): IngestFileSummary {
  return {
    path: report.path,
    format: report.format,
    compression: report.compression,
    bytes: report.bytes,
    lines: report.lines,
    rows: report.rows,
    columns: report.columns,
    samples: report.samples,
    genes: report.genes,
    layout: report.layout,
    excludedColumns: report.excludedColumns,
    missingCells: report.missingCells,
    notes: report.notes,
  };
}
