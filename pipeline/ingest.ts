/** Options of the ingest stage: reading a count or expression matrix and its labels. */
export interface IngestOptions {
  /**
   * Matrix files, Cell Ranger matrix directories (or their .mtx file) and GEO MINiML series
   * (their directory or .xml file). Several are joined sample-wise on shared genes (Golub's
   * train and independent sets).
   */
  inputs: string[];
  /**
   * 'auto' detects Arrow IPC/Feather v2 and gzip by their magic bytes and the text delimiter by
   * the extension (.csv, .tsv/.tab/.txt), else by the header line. Default 'auto'.
   */
  format: 'auto' | 'csv' | 'tsv' | 'arrow';
  /** Genes are rows and samples are columns in the file (many public matrices). Default false. */
  genesInRows: boolean;
  /** Column holding sample ids (samples in rows) or gene ids (genes in rows). Default: the first column. */
  idColumn: string | null;
  /** Columns to leave out, by exact name or glob pattern (`call*`). Default none. */
  excludeColumns: string[];
  /**
   * Column holding the label: a column of the matrix when samples are rows, otherwise (or when
   * the matrix has no such column) a column of the metadata file. Default none.
   */
  labelColumn: string | null;
  /** Metadata CSV/TSV with one row per sample, joined on sample id. Default none. */
  metadata: string | null;
  /** Column of the metadata that holds sample ids. Default: the first column. */
  metadataIdColumn: string | null;
  /** Column of the metadata holding the label; give this or labelColumn, not both. Default none. */
  metadataLabelColumn: string | null;
  /** Cell values read as missing, in addition to the empty string. Default ['NA', 'NaN', 'nan']. */
  naValues: string[];
  /** What to do with missing cells: stop with an error, or store them as zero. Default 'error'. */
  missing: 'error' | 'zero';
  /** Column holding gene symbols when genes are rows; written to var.symbol. Default none. */
  symbolColumn: string | null;
  /** Matrix columns (samples in rows) kept as sample metadata in obs rather than read as genes; names or globs. Default none. */
  obsColumns: string[];
  /**
   * Duplicate gene names: false stops with an error listing them; true renames repeats as scanpy's
   * var_names_make_unique does (TP53, TP53-1, TP53-2). Duplicate sample ids are always an error. Default false.
   */
  makeUnique: boolean;
  /**
   * One prefix per input, in input order, put before each sample id with an underscore
   * (lib1_AAACCTGAGAAGGCCT-1), so that inputs whose ids repeat (Cell Ranger barcodes of
   * several libraries) can be joined. Metadata must then use the prefixed ids. Default none.
   */
  samplePrefixes: string[];
}

export const INGEST_DEFAULTS: Omit<IngestOptions, 'inputs'> = {
  format: 'auto',
  genesInRows: false,
  idColumn: null,
  excludeColumns: [],
  labelColumn: null,
  metadata: null,
  metadataIdColumn: null,
  metadataLabelColumn: null,
  naValues: ['NA', 'NaN', 'nan'],
  missing: 'error',
  symbolColumn: null,
  obsColumns: [],
  makeUnique: false,
  samplePrefixes: [],
};
