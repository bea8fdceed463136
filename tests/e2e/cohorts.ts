import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where the real cohorts live: GENEVAE_DATA_DIR, or ../shared/data beside the checkout. */
export const DATA_DIR = resolve(process.env.GENEVAE_DATA_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'data'));

/** A real cohort and the `genevae run` arguments that ingest it with its labels. */
export interface CohortCase {
  name: string;
  /** Arguments after `genevae run`, with paths relative to DATA_DIR already resolved. */
  args: string[];
  samples: number;
  classes: number;
}

function data(...parts: string[]): string {
  return join(DATA_DIR, ...parts);
}

export const REAL_COHORTS: CohortCase[] = [
  {
    name: 'golub_all_aml',
    args: [
      data('golub_all_aml', 'data_set_ALL_AML_train.csv'),
      data('golub_all_aml', 'data_set_ALL_AML_independent.csv'),
      '--genes-in-rows',
      '--id-column', 'Gene Accession Number',
      '--exclude-columns', 'Gene Description',
      '--exclude-columns', 'call*',
      '--metadata', data('golub_all_aml', 'actual.csv'),
      '--metadata-label-column', 'cancer',
    ],
    samples: 72,
    classes: 2,
  },
  {
    name: 'srbct_khan2001',
    args: [
      data('srbct_khan2001', 'srbct_expression.csv'),
      '--metadata', data('srbct_khan2001', 'labels.csv'),
      '--metadata-label-column', 'class',
    ],
    samples: 63,
    classes: 4,
  },
  {
    name: 'breast_tcga_pam50_mixomics',
    args: [
      data('breast_tcga_pam50_mixomics', 'mrna.csv'),
      '--metadata', data('breast_tcga_pam50_mixomics', 'labels.csv'),
      '--metadata-label-column', 'subtype',
    ],
    samples: 220,
    classes: 3,
  },
  {
    name: 'pbmc68k_reduced',
    args: [
      data('pbmc68k_reduced', 'counts_cells_x_genes.csv.gz'),
      '--metadata', data('pbmc68k_reduced', 'cell_labels.csv'),
      '--metadata-label-column', 'bulk_labels',
    ],
    samples: 700,
    classes: 10,
  },
];

export function cohortAvailable(cohort: CohortCase): boolean {
  return cohort.args.filter((a) => a.startsWith(DATA_DIR)).every((path) => existsSync(path));
}
