import type { Command } from 'commander';
import { ACCOUNTANTS, epsilonDetails, noiseMultiplierFor, type AccountantName } from '../privacy/accountant.js';
import { parseChoice, parseInteger, parseNumber } from './parse.js';

/**
 * `genevae privacy epsilon` and `genevae privacy noise`: what DP-SGD settings would cost, or
 * which noise reaches a target, before anything is trained. Results go to stdout (one JSON
 * object with --json), so that they can be pasted into an application to an ethics board.
 */

interface EpsilonOptions {
  samplingRate: number;
  noiseMultiplier: number;
  steps: number;
  delta: number;
  accountant: AccountantName;
  json?: boolean;
}

interface NoiseOptions {
  targetEpsilon: number;
  samplingRate: number;
  steps: number;
  delta: number;
  accountant: AccountantName;
  json?: boolean;
}

const SAMPLING_HELP = 'Poisson sampling rate q: expected batch size / number of training samples, in (0, 1]';
const STEPS_HELP = 'number of noisy updates (one epoch is about 1 / q steps)';
const DELTA_HELP = 'delta of (epsilon, delta)-DP, in (0, 1); choose it well below 1 / number of samples';
const ACCOUNTANT_HELP = "accountant: 'rdp' (Rényi DP) or 'pld' (privacy loss distribution, tighter and slower)";
const ASSUMPTIONS =
  'Assumes Poisson sampling, add/remove adjacency and one sample per patient; covers the model weights ' +
  '(every intermediate model too), not per-sample outputs such as latents or cluster labels.';

export function registerPrivacy(program: Command): void {
  const privacy = program
    .command('privacy')
    .description('privacy accounting without training: epsilon for DP-SGD settings, or the noise for a target epsilon');

  privacy
    .command('epsilon')
    .description('epsilon spent by DP-SGD with the given sampling rate, noise multiplier and number of steps (a second-moment release is --sampling-rate 1 --steps 1)')
    .requiredOption('--sampling-rate <q>', SAMPLING_HELP, parseNumber(0, 1, { exclusiveMin: true }))
    .requiredOption('--noise-multiplier <sigma>', 'noise standard deviation divided by the clipping norm C', parseNumber(0, Infinity, { exclusiveMin: true }))
    .requiredOption('--steps <n>', STEPS_HELP, parseInteger(0))
    .requiredOption('--delta <delta>', DELTA_HELP, parseNumber(0, 1, { exclusiveMin: true }))
    .option('--accountant <name>', ACCOUNTANT_HELP, parseChoice(ACCOUNTANTS), 'rdp')
    .option('--json', 'print one JSON object instead of text')
    .action((options: EpsilonOptions) => {
      const result = epsilonDetails({
        samplingRate: options.samplingRate,
        noiseMultiplier: options.noiseMultiplier,
        steps: options.steps,
        delta: options.delta,
        accountant: options.accountant,
      });
      if (options.json) {
        printJson({
          epsilon: Number.isFinite(result.epsilon) ? result.epsilon : null,
          delta: options.delta,
          samplingRate: options.samplingRate,
          noiseMultiplier: options.noiseMultiplier,
          steps: options.steps,
          accountant: result.accountant,
          ...(result.rdpOrder !== undefined ? { rdpOrder: result.rdpOrder } : {}),
        });
        return;
      }
      const order = result.rdpOrder !== undefined ? `, optimal RDP order ${result.rdpOrder}` : '';
      printLines([
        `epsilon = ${formatNumber(result.epsilon)} at delta = ${formatDelta(options.delta)} (${result.accountant} accountant${order})`,
        `for q = ${options.samplingRate}, noise multiplier ${options.noiseMultiplier}, ${options.steps} steps.`,
        ASSUMPTIONS,
      ]);
    });

  privacy
    .command('noise')
    .description('smallest noise multiplier whose epsilon after the given steps is at most the target')
    .requiredOption('--target-epsilon <epsilon>', 'epsilon to stay within after all steps', parseNumber(0, Infinity, { exclusiveMin: true }))
    .requiredOption('--sampling-rate <q>', SAMPLING_HELP, parseNumber(0, 1, { exclusiveMin: true }))
    .requiredOption('--steps <n>', STEPS_HELP, parseInteger(0))
    .requiredOption('--delta <delta>', DELTA_HELP, parseNumber(0, 1, { exclusiveMin: true }))
    .option('--accountant <name>', ACCOUNTANT_HELP, parseChoice(ACCOUNTANTS), 'rdp')
    .option('--json', 'print one JSON object instead of text')
    .action((options: NoiseOptions) => {
      const noiseMultiplier = noiseMultiplierFor({
        targetEpsilon: options.targetEpsilon,
        samplingRate: options.samplingRate,
        steps: options.steps,
        delta: options.delta,
        accountant: options.accountant,
      });
      const reached =
        noiseMultiplier === 0
          ? 0
          : epsilonDetails({ samplingRate: options.samplingRate, noiseMultiplier, steps: options.steps, delta: options.delta, accountant: options.accountant }).epsilon;
      if (options.json) {
        printJson({
          noiseMultiplier,
          epsilon: reached,
          targetEpsilon: options.targetEpsilon,
          delta: options.delta,
          samplingRate: options.samplingRate,
          steps: options.steps,
          accountant: options.accountant,
        });
        return;
      }
      printLines([
        `noise multiplier = ${formatNumber(noiseMultiplier)} (epsilon ${formatNumber(reached)} <= ${options.targetEpsilon} at delta = ${formatDelta(options.delta)}, ${options.accountant} accountant)`,
        `for q = ${options.samplingRate} and ${options.steps} steps; the noise standard deviation is this times the clipping norm C.`,
        ASSUMPTIONS,
      ]);
    });
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? value.toPrecision(6) : 'infinite';
}

function formatDelta(delta: number): string {
  return delta < 1e-3 ? delta.toExponential() : String(delta);
}

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

function printLines(lines: string[]): void {
  process.stdout.write(lines.join('\n') + '\n');
}
