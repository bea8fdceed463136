import { STAGES, STAGE_DIRS } from '../../run/layout.js';
import { escapeHtml, formatSeconds, formatValue, NOT_AVAILABLE } from '../format.js';
import { isRecord } from '../fields.js';
import { humanizeKey, renderFacts, renderTable, unavailable, type Section } from '../html.js';
import { installedVersion } from '../../run/versions.js';

/** Libraries that draw the report's plots; runs recorded before the manifest listed them get their current versions. */
const PLOT_LIBRARIES = ['vega', 'vega-lite'] as const;
import type { SectionContext } from './context.js';

/** Formats an option's value; null means the option was left unset, so its default rule applied. */
function optionValue(value: unknown): string {
  return value === null || value === undefined ? '<span class="note">not set (default rule)</span>' : formatValue(value);
}

/** Renders the reproducibility section: run id, code and package versions, seed, options and timings per stage. */
export async function renderReproducibilitySection({ data }: SectionContext): Promise<Section> {
  const manifest = data.manifest;
  if (!manifest) {
    return { id: 'reproducibility', title: 'Reproducibility', status: 'rendered', html: unavailable('Run record', 'manifest.json is missing from the run directory') };
  }
  const parts: string[] = [];
  parts.push(
    renderFacts([
      ['run id', `<code>${escapeHtml(manifest.runId)}</code>`],
      ['code version', manifest.codeVersion ? `<code>${escapeHtml(manifest.codeVersion)}</code>` : NOT_AVAILABLE],
      ['seed', formatValue(manifest.seed)],
      ['created', escapeHtml(manifest.createdAt ?? '')],
      ['last updated', escapeHtml(manifest.updatedAt ?? '')],
    ]),
  );

  const rows = STAGES.map((stage) => {
    const record = manifest.stages?.[stage];
    const seconds = record?.seconds ?? data.seconds(stage);
    let status = escapeHtml(record?.status ?? 'not run');
    if (record?.cached) status += ' (reused)';
    if (stage === 'report') status = 'writing this report';
    return [
      `<code>${STAGE_DIRS[stage]}</code>`,
      status,
      escapeHtml(record?.startedAt ?? ''),
      { html: stage === 'report' ? '' : formatSeconds(seconds ?? null), sort: seconds ?? 0 },
    ];
  });
  parts.push('<h3>Stages</h3>', renderTable({ columns: ['stage', 'status', 'started', { label: 'time', numeric: true }], rows }));

  const versions = Object.entries({ ...(manifest.versions ?? {}), ...Object.fromEntries(PLOT_LIBRARIES.filter((name) => !manifest.versions?.[name]).map((name) => [name, installedVersion(name)])) });
  parts.push('<h3>Versions</h3>', versions.length ? renderFacts(versions.map(([name, version]) => [name, `<code>${escapeHtml(version)}</code>`])) : unavailable('Package versions', 'not recorded'));

  parts.push('<h3>Options per stage</h3>');
  for (const stage of STAGES) {
    const options = manifest.options?.[stage];
    if (!isRecord(options)) continue;
    const facts = Object.entries(options).map(([key, value]): [string, string] => [humanizeKey(key), optionValue(value)]);
    parts.push(`<details><summary>${escapeHtml(stage)}</summary>${renderFacts(facts)}</details>`);
  }
  const notes = Object.entries(manifest.notes ?? {}).filter(([, value]) => isRecord(value) && Object.keys(value).length > 0);
  if (notes.length) {
    parts.push('<h3>Notes recorded by stages</h3>');
    for (const [stage, value] of notes) {
      parts.push(`<details><summary>${escapeHtml(stage)}</summary>${renderFacts(Object.entries(value as Record<string, unknown>).map(([k, v]) => [humanizeKey(k), formatValue(v)]))}</details>`);
    }
  }
  parts.push(`<p class="note">To repeat this run, run the same command with <code>--seed ${escapeHtml(manifest.seed)}</code> and the options above; manifest.json in the run directory records them.</p>`);
  return { id: 'reproducibility', title: 'Reproducibility', status: 'rendered', html: parts.join('\n') };
}
