import type { Command } from 'commander';
import { resolve } from 'node:path';
import { DEMO_COHORT_DEFAULTS, generateDemoCohort, writeDemoCohortCsv } from '../demo/cohort.js';
import { rootLogger } from '../util/log.js';
import { parseInteger } from './parse.js';

/** Default path of the generated demo cohort (git-ignored). */
export const DEMO_PATH = 'data/generated/demo-cohort.csv';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('write the synthetic demo cohort: negative-binomial counts with disease modules, labels in column `disease`')
    .option('--out <file>', `CSV to write (default: ${DEMO_PATH})`, DEMO_PATH)
    .option('--samples <n>', `samples (default: ${DEMO_COHORT_DEFAULTS.samples})`, parseInteger(2))
    .option('--genes <n>', `genes (default: ${DEMO_COHORT_DEFAULTS.genes})`, parseInteger(10))
    .option('--seed <n>', `seed (default: ${DEMO_COHORT_DEFAULTS.seed})`, parseInteger(0, 0xffffffff))
    .action((parsed: { out: string; samples?: number; genes?: number; seed?: number }) => {
      const cohort = generateDemoCohort({
        ...(parsed.samples !== undefined && { samples: parsed.samples }),
        ...(parsed.genes !== undefined && { genes: parsed.genes }),
        ...(parsed.seed !== undefined && { seed: parsed.seed }),
      });
      writeDemoCohortCsv(resolve(parsed.out), cohort);
      rootLogger.info(`wrote ${cohort.sampleIds.length} samples x ${cohort.geneIds.length} genes to ${parsed.out}`);
    });
}
