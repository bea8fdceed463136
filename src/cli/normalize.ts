import type { Command } from 'commander';
import { NORMALIZE_DEFAULTS, type NormalizeOptions } from '../../pipeline/normalize.js';
import { runNormalize } from '../stages/normalize.js';
import { parseChoice, parseInteger, parseNumber } from './parse.js';
import { runStandaloneStage } from './standalone.js';

const d = NORMALIZE_DEFAULTS;

export function addNormalizeOptions(command: Command): Command {
  return command
    .option(
      '--input-kind <kind>',
      `what the values are: auto (detect from every value), counts, normalized (linear scale) or log (default: ${d.inputKind})`,
      parseChoice(['auto', 'counts', 'normalized', 'log'] as const),
    )
    .option(
      '--target-sum <counts>',
      `total counts per sample after library-size normalization, or 'median' for the median library size (default: ${d.targetSum})`,
      (raw: string) => (raw === 'median' ? null : parseNumber(0, Infinity, { exclusiveMin: true })(raw)),
    )
    .option('--n-top-genes <genes>', `number of highly variable genes to keep (default: ${d.nTopGenes})`, parseInteger(1))
    .option(
      '--min-samples-per-gene <samples>',
      `drop genes non-zero in fewer samples than this (default: ${d.minSamplesPerGene})`,
      parseInteger(0),
    )
    .option('--no-scale', 'do not centre and scale each gene to unit variance (default: scale)')
    .option('--clip <value>', `clip scaled values to [-value, value], in standard deviations (default: ${d.clip})`, parseNumber(0, Infinity, { exclusiveMin: true }))
    .option('--no-clip', 'do not clip scaled values');
}

export function normalizeOptionsFrom(parsed: Record<string, unknown>): Partial<NormalizeOptions> {
  const out: Partial<NormalizeOptions> = {};
  if (parsed.inputKind !== undefined) out.inputKind = parsed.inputKind as NormalizeOptions['inputKind'];
  if (parsed.targetSum !== undefined) out.targetSum = parsed.targetSum as number | null;
  if (parsed.nTopGenes !== undefined) out.nTopGenes = parsed.nTopGenes as number;
  if (parsed.minSamplesPerGene !== undefined) out.minSamplesPerGene = parsed.minSamplesPerGene as number;
  if (parsed.scale === false) out.scale = false;
  if (parsed.clip === false) out.clip = null;
  else if (typeof parsed.clip === 'number') out.clip = parsed.clip;
  return out;
}

export function registerNormalize(program: Command): void {
  addNormalizeOptions(
    program
      .command('normalize')
      .argument('<run-dir>', 'run directory whose ingest stage has completed')
      .description('library-size normalization, log1p, highly variable genes and scaling (writes 02-normalize/)')
      .option('--force', 'rerun even when inputs and options are unchanged'),
  ).action(async (runDir: string, parsed: Record<string, unknown>) => {
    const options = { ...NORMALIZE_DEFAULTS, ...normalizeOptionsFrom(parsed) };
    await runStandaloneStage(runDir, 'normalize', options, runNormalize, { force: Boolean(parsed.force) });
  });
}
