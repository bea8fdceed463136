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
  {
    name: 'gse27011_asthma_geo_miniml',
    // The GEO series as downloaded: the family XML and one table per sample, labels in the XML.
    // Without DP: at 54 samples DP at epsilon 8 leaves the latents near chance for these
    // modest group differences (the run warns so), and this test checks the classifiers.
    args: [data('gse27011_asthma_geo_miniml', 'GSE27011_family-xml'), '--label-column', 'source', '--no-dp'],
    samples: 54,
    classes: 3,
  },
];

/** A real cohort without labels: the pipeline runs every stage but classification. */
export const UNLABELLED_COHORTS: Omit<CohortCase, 'classes'>[] = [
  {
    name: 'tenx_v3_format_fixture',
    args: [data('tenx_v3_format_fixture', 'filtered_feature_bc_matrix')],
    samples: 1107,
  },
];

export function cohortAvailable(cohort: Pick<CohortCase, 'args'>): boolean {
  return cohort.args.filter((a) => a.startsWith(DATA_DIR)).every((path) => existsSync(path));
}
