/** Options of the ingest stage: reading a count or expression matrix and its labels. */
export interface IngestOptions {
  /** Matrix files. Several files are joined sample-wise on shared genes (Golub's train and independent sets). */
  inputs: string[];
  /** 'auto' picks by extension: .csv, .tsv/.txt, .arrow/.feather/.ipc, each optionally .gz. Default 'auto'. */
  format: 'auto' | 'csv' | 'tsv' | 'arrow';
  /** Genes are rows and samples are columns in the file (many public matrices). Default false. */
  genesInRows: boolean;
  /** Column holding sample ids (samples in rows) or gene ids (genes in rows). Default: the first column. */
  idColumn: string | null;
  /** Columns to leave out, by exact name or glob pattern (`call*`). Default none. */
  excludeColumns: string[];
  /** Column of the matrix holding the label (samples in rows only). Default none. */
  labelColumn: string | null;
  /** Metadata CSV/TSV with one row per sample, joined on sample id. Default none. */
  metadata: string | null;
  /** Column of the metadata that holds sample ids. Default: the first column. */
  metadataIdColumn: string | null;
  /** Column of the metadata holding the label (used when labelColumn is not given). Default none. */
  metadataLabelColumn: string | null;
  /** Cell values read as missing, in addition to the empty string. Default ['NA', 'NaN', 'nan']. */
  naValues: string[];
  /** What to do with missing cells: stop with an error, or store them as zero. Default 'error'. */
  missing: 'error' | 'zero';
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
};
