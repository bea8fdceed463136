/** Plausibility checks on the ids of an ingested matrix: orientation and Ensembl versions. */

/** Ensembl gene, transcript or protein ids, optionally versioned: ENSG00000141510.16, ENSMUSG… */
const ENSEMBL = /^(ENS[A-Z]*[GTP]\d{6,})(\.\d+)?$/;
/** Affymetrix probe set ids (1007_s_at, AFFX-BioB-5_at, 7896746 is Gene ST and not matched) and Illumina probes. */
const PROBE = /(_at|_st)$|^ILMN_\d+$|^A_\d+_P\d+$/i;
/** HGNC-like symbols: upper-case letters and digits, optional dash parts (TP53, HLA-DRB1, RP11-782C8.1). */
const SYMBOL = /^[A-Z][A-Z0-9]{1,}(-[A-Z0-9]+)*(\.\d+)?$/;
/**
 * Sample ids that SYMBOL would match: GEO and SRA accessions, TCGA barcodes, cell barcodes,
 * and one or two letters before three or more digits (S00001, PT042), which few symbols are.
 */
const SAMPLE_ID = /^(GSM\d+|[SED]RR\d+|TCGA-.*|[ACGTN]{8,}(-\d+)?|[A-Z]{1,2}\d{3,})$/;

/** Fraction of ids that look like gene ids: strongly (Ensembl, probe ids) or weakly (symbols). */
export function geneLikeness(ids: readonly string[], sampleSize = 2000): { strong: number; symbol: number } {
  if (ids.length === 0) return { strong: 0, symbol: 0 };
  const step = Math.max(1, Math.floor(ids.length / sampleSize));
  let strong = 0;
  let symbol = 0;
  let seen = 0;
  for (let i = 0; i < ids.length; i += step) {
    const id = ids[i];
    seen++;
    if (ENSEMBL.test(id) || PROBE.test(id)) strong++;
    else if (SYMBOL.test(id) && !SAMPLE_ID.test(id)) symbol++;
  }
  return { strong: strong / seen, symbol: symbol / seen };
}

/** The orientation check recorded in the ingest summary. */
export interface OrientationCheck {
  layout: 'samples-in-rows' | 'genes-in-rows';
  /** Fraction of sample ids that look like Ensembl or probe ids. */
  sampleIdsGeneLike: number;
  /** Fraction of gene ids that look like Ensembl or probe ids. */
  geneIdsGeneLike: number;
  /** Fraction of sample ids that look like gene symbols. */
  sampleIdsSymbolLike: number;
  /** True when the layout looks transposed; `message` explains why. */
  suspicious: boolean;
  message: string | null;
}

/**
 * Warns when the ids suggest that samples and genes are swapped: sample ids that are gene ids
 * (Ensembl, probe ids, or mostly symbols with far more samples than genes) while the gene ids
 * are not. Symbols alone are weak evidence, since short sample codes (TCGA's A0FJ) look alike.
 */
export function checkOrientation(sampleIds: readonly string[], geneIds: readonly string[], genesInRows: boolean): OrientationCheck {
  const samples = geneLikeness(sampleIds);
  const genes = geneLikeness(geneIds);
  const layout = genesInRows ? 'genes-in-rows' : 'samples-in-rows';
  const swapOption = genesInRows ? 'drop --genes-in-rows' : 'add --genes-in-rows';
  let message: string | null = null;
  const example = sampleIds.find((id) => ENSEMBL.test(id) || PROBE.test(id) || SYMBOL.test(id)) ?? sampleIds[0];
  if (samples.strong >= 0.5 && genes.strong < 0.5) {
    message =
      `${Math.round(samples.strong * 100)}% of the sample ids look like gene or probe ids (e.g. '${example}'): ` +
      `the matrix is probably transposed (genes are the ${genesInRows ? 'columns' : 'rows'}); ${swapOption}`;
  } else if (
    sampleIds.length >= 10 * geneIds.length &&
    samples.symbol + samples.strong >= 0.8 &&
    genes.strong + genes.symbol < 0.5
  ) {
    message =
      `${sampleIds.length} samples but only ${geneIds.length} genes, and the sample ids look like gene symbols ` +
      `(e.g. '${example}'): the matrix is probably transposed; ${swapOption}`;
  }
  return {
    layout,
    sampleIdsGeneLike: round(samples.strong),
    geneIdsGeneLike: round(genes.strong),
    sampleIdsSymbolLike: round(samples.symbol),
    suspicious: message !== null,
    message,
  };
}

/** Ensembl ids present both with and without a version suffix (or with several versions). */
export interface EnsemblVersionConflict {
  base: string;
  ids: string[];
}

/** Finds Ensembl ids that share a base id but differ in their version suffix, e.g. ENSG…510 and ENSG…510.16. */
export function findEnsemblVersionConflicts(geneIds: readonly string[]): { versioned: number; conflicts: EnsemblVersionConflict[] } {
  const byBase = new Map<string, string[]>();
  let versioned = 0;
  for (const id of geneIds) {
    const match = ENSEMBL.exec(id);
    if (!match) continue;
    if (match[2]) versioned++;
    const group = byBase.get(match[1]);
    if (group) group.push(id);
    else byBase.set(match[1], [id]);
  }
  const conflicts: EnsemblVersionConflict[] = [];
  for (const [base, ids] of byBase) if (ids.length > 1) conflicts.push({ base, ids });
  return { versioned, conflicts };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
