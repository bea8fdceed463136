import type { NormalizeSummary } from '../../stages/normalize.js';
import { FILES } from '../../run/layout.js';
import { escapeHtml, formatInteger, formatNumber } from '../format.js';
import { isRecord } from '../fields.js';
import { renderFacts, renderOtherFacts, renderTable, skippedSection, unavailable, type Section } from '../html.js';
import { geneSelectionSpec, renderFigure } from '../plot.js';
import { Rng } from '../../util/rng.js';
import type { SectionContext } from './context.js';

/** Genes drawn in the gene-selection plot: every selected gene plus a seeded sample of the others up to this total. */
const MAX_GENE_POINTS = 6_000;

/** Renders the normalization section: each step with whether it ran and why, gene selection, scaling. */
export async function renderNormalizationSection({ data, seed }: SectionContext): Promise<Section> {
  if (!data.completed('normalize')) {
    return skippedSection('normalization', 'Normalization', 'The normalize stage has not completed in this run.');
  }
  const summary = data.summary<NormalizeSummary>('normalize');
  const parts: string[] = [];

  const steps = summary.array('steps').filter(isRecord);
  if (steps.length > 0) {
    const rows = steps.map((step) => [
      `<code>${escapeHtml(step.step ?? '?')}</code>`,
      step.applied === true ? '<span class="yes">ran</span>' : '<span class="no">skipped</span>',
      escapeHtml(step.detail ?? ''),
    ]);
    parts.push(renderTable({ columns: ['step', 'status', 'what and why'], rows }));
  } else {
    parts.push(unavailable('Normalization steps', 'the normalize summary lists none'));
  }

  parts.push(
    renderFacts([
      ['samples', formatInteger(summary.number('nSamples'))],
      ['genes in', formatInteger(summary.number('genesIn'))],
      ['genes kept after filtering', formatInteger(summary.number('genesKept'))],
      ['highly variable genes selected', formatInteger(summary.number('nHighlyVariable'))],
      ['library-size target sum', summary.number('targetSum') === null ? 'not applied' : formatNumber(summary.number('targetSum'), 6)],
      ['constant selected genes (scaled to 0)', formatInteger(summary.number('constantGenes'))],
    ]),
  );

  parts.push('<h3>Highly variable genes</h3>', await renderGeneSelection(data.frame('normalize', FILES.var), seed));
  parts.push(
    renderOtherFacts(
      summary.remainingScalars([
        'inputKind',
        'inputKindSource',
        'inputKindReason',
        'profile',
        'steps',
        'nSamples',
        'genesIn',
        'genesKept',
        'nHighlyVariable',
        'targetSum',
        'zeroLibrarySamples',
        'constantGenes',
      ]),
      'Other values recorded by normalize',
    ),
  );
  return { id: 'normalization', title: 'Normalization', status: 'rendered', html: parts.join('\n') };
}

async function renderGeneSelection(vars: Record<string, unknown> | null, seed: number): Promise<string> {
  const mean = vars?.mean as ArrayLike<number> | undefined;
  const dispersion = (vars?.dispersion_norm ?? vars?.dispersion) as ArrayLike<number> | undefined;
  const selected = vars?.highly_variable as boolean[] | undefined;
  if (!vars || !mean || !dispersion || !selected) {
    return unavailable('Gene-selection plot', 'var.arrow lacks mean, dispersion or highly_variable');
  }
  const yTitle = vars.dispersion_norm ? 'normalized dispersion' : 'dispersion (variance / mean)';
  const selectedIdx: number[] = [];
  const otherIdx: number[] = [];
  for (let j = 0; j < mean.length; j++) {
    if (!Number.isFinite(mean[j]) || !Number.isFinite(dispersion[j])) continue;
    (selected[j] ? selectedIdx : otherIdx).push(j);
  }
  let others = otherIdx;
  const room = Math.max(0, MAX_GENE_POINTS - selectedIdx.length);
  if (otherIdx.length > room) {
    const order = new Rng(seed).fork('report:genes').permutation(otherIdx.length);
    others = Array.from(order.subarray(0, room), (k) => otherIdx[k]);
  }
  const points = [
    ...others.map((j) => ({ mean: mean[j], dispersion: dispersion[j], selected: 'other' })),
    ...selectedIdx.map((j) => ({ mean: mean[j], dispersion: dispersion[j], selected: 'highly variable' })),
  ];
  const sampled = others.length < otherIdx.length;
  const caption =
    `Mean against ${yTitle} of every kept gene; the ${formatInteger(selectedIdx.length)} selected genes in red.` +
    (sampled
      ? ` <strong>Sampled:</strong> all selected genes and ${formatInteger(others.length)} of ${formatInteger(otherIdx.length)} other genes are drawn.`
      : '');
  return renderFigure('gene-selection', geneSelectionSpec(points, { yTitle }), caption);
}
