import type { TrainOptions } from '../../../pipeline/train.js';
import { escapeHtml, formatInteger, formatNumber, formatSeconds, formatValue, NOT_AVAILABLE } from '../format.js';
import { Fields } from '../fields.js';
import { renderFacts, renderOtherFacts, skippedSection, unavailable, type Section } from '../html.js';
import { readHistory, type EpochRecord } from '../history.js';
import { lineSpec, renderFigure, type LineRow } from '../plot.js';
import type { SectionContext } from './context.js';

/** Train summary fields this section reads besides the history; all optional. */
export interface TrainFields {
  backend: string;
  likelihood: string;
  latentDim: number;
  hiddenDims: number[];
  nParameters: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  nTrain: number;
  nValidation: number;
  validationFraction: number;
  seconds: number;
  secondsPerEpoch: number;
  timings: Record<string, number>;
  finalTrainLoss: number;
  finalValidationLoss: number;
  history: unknown[];
}

const SHOWN = [
  'backend',
  'likelihood',
  'latentDim',
  'hiddenDims',
  'nParameters',
  'epochs',
  'batchSize',
  'learningRate',
  'nTrain',
  'nValidation',
  'validationFraction',
  'seconds',
  'secondsPerEpoch',
  'timings',
  'history',
  'privacy',
  'dp',
];

/** Renders the training section: loss, KL, KL weight and epsilon per epoch, architecture, options, backend, timings. */
export async function renderTrainingSection({ data }: SectionContext): Promise<Section> {
  if (!data.completed('train')) {
    return skippedSection('training', 'Training', 'The train stage has not completed in this run.');
  }
  const summary = data.summary<TrainFields>('train');
  const options = new Fields<TrainOptions>(data.manifest?.options?.train);
  const history = readHistory(data);
  const parts: string[] = [];

  if (history.length === 0) {
    parts.push(unavailable('Training curves', 'the train stage recorded no per-epoch history'));
  } else {
    parts.push(`<div class="row">${(await renderCurves(history)).join('')}</div>`);
  }

  const hidden = summary.numbers('hiddenDims').length ? summary.numbers('hiddenDims') : options.numbers('hiddenDims');
  const latentDim = summary.number('latentDim') ?? options.number('latentDim');
  const architecture = hidden.length && latentDim !== null ? `genes → ${hidden.join(' → ')} → ${latentDim} (latent) → ${[...hidden].reverse().join(' → ')} → genes` : NOT_AVAILABLE;
  parts.push('<h3>Model and options</h3>');
  parts.push(
    renderFacts([
      ['architecture (MLP encoder and mirrored decoder)', escapeHtml(architecture === NOT_AVAILABLE ? '' : architecture) || NOT_AVAILABLE],
      ['latent dimensions', formatInteger(latentDim)],
      ['likelihood', formatValue(summary.string('likelihood') ?? options.string('likelihood'))],
      ['layer normalization', formatValue(options.boolean('layerNorm'))],
      ['dropout', formatValue(options.number('dropout'))],
      ['trainable parameters', formatInteger(summary.number('nParameters'))],
      ['epochs', formatInteger(summary.number('epochs') ?? options.number('epochs'))],
      ['expected batch size', formatInteger(summary.number('batchSize') ?? options.number('batchSize'))],
      ['learning rate (Adam)', formatNumber(summary.number('learningRate') ?? options.number('learningRate'))],
      ['KL warm-up (fraction of epochs) and final weight', `${formatNumber(options.number('klWarmupFraction'))} and ${formatNumber(options.number('beta'))}`],
      ['training / validation samples', `${formatInteger(summary.number('nTrain'))} / ${formatInteger(summary.number('nValidation'))}`],
      ['backend (TensorFlow.js)', formatValue(summary.string('backend') ?? options.string('backend'))],
      ['training time', formatSeconds(summary.number('seconds') ?? data.seconds('train'))],
      ['time per epoch', formatSeconds(summary.number('secondsPerEpoch') ?? meanSeconds(history))],
    ]),
  );
  const timings = summary.object<Record<string, number>>('timings');
  if (!timings.isEmpty) {
    parts.push(renderFacts(Object.entries(timings.value).map(([step, seconds]) => [step, formatSeconds(typeof seconds === 'number' ? seconds : null)]), 'Time per step'));
  }
  parts.push(renderOtherFacts(summary.remainingScalars(SHOWN), 'Other values recorded by train'));
  return { id: 'training', title: 'Training', status: 'rendered', html: parts.join('\n') };
}

function meanSeconds(history: EpochRecord[]): number | null {
  const seconds = history.map((h) => h.seconds).filter((s): s is number => s !== null);
  return seconds.length ? seconds.reduce((a, b) => a + b, 0) / seconds.length : null;
}

function series(history: EpochRecord[], key: keyof EpochRecord, name: string): LineRow[] {
  return history.filter((h) => h[key] !== null).map((h) => ({ x: h.epoch, y: h[key] as number, series: name }));
}

async function renderCurves(history: EpochRecord[]): Promise<string[]> {
  const figures: string[] = [];
  const loss = [...series(history, 'trainLoss', 'training'), ...series(history, 'validationLoss', 'validation')];
  if (loss.length) {
    figures.push(
      await renderFigure(
        'training-loss',
        lineSpec(loss, { xTitle: 'epoch', yTitle: 'loss (negative ELBO per sample)', seriesTitle: 'set' }),
        'Training and validation loss per epoch. With DP-SGD the training loss is noisy by design.',
      ),
    );
  }
  const kl = series(history, 'kl', 'KL divergence');
  if (kl.length) {
    figures.push(await renderFigure('training-kl', lineSpec(kl, { xTitle: 'epoch', yTitle: 'KL divergence per sample' }), 'KL divergence of the posterior from the prior.'));
  }
  const weight = series(history, 'klWeight', 'KL weight');
  if (weight.length) {
    figures.push(
      await renderFigure('training-kl-weight', lineSpec(weight, { xTitle: 'epoch', yTitle: 'KL weight' }), 'Weight of the KL term: it rises during warm-up, then stays at its final value.'),
    );
  }
  const epsilon = series(history, 'epsilon', 'epsilon');
  if (epsilon.length) {
    figures.push(
      await renderFigure('training-epsilon', lineSpec(epsilon, { xTitle: 'epoch', yTitle: 'epsilon spent so far' }), 'Privacy spent up to each epoch, from the accountant.'),
    );
  }
  return figures;
}
