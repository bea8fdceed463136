import { basename } from 'node:path';
import type { FileFingerprint } from '../../run/hash.js';
import type { IngestFileSummary, IngestSummary } from '../../stages/ingest.js';
import type { NormalizeSummary } from '../../stages/normalize.js';
import { escapeHtml, formatBytes, formatInteger, formatNumber, formatPercent, NOT_AVAILABLE } from '../format.js';
import type { Fields } from '../fields.js';
import { renderCallout, renderFacts, renderList, renderOtherFacts, renderTable, skippedSection, unavailable, type Section } from '../html.js';
import { histogramBins, histogramSpec, renderFigure } from '../plot.js';
import { labelsOf } from '../run-data.js';
import { countValues, fiveNumbers } from '../stats.js';
import type { SectionContext } from './context.js';

type IngestFields = IngestSummary;

const SHOWN_INGEST_FIELDS: (keyof IngestSummary)[] = [
  'files',
  'nSamples',
  'nGenes',
  'nnz',
  'sparsity',
  'values',
  'librarySize',
  'excluded',
  'orientation',
  'genes',
  'samplesAllZero',
  'samplesDuplicated',
  'labels',
  'metadata',
  'warnings',
];

/** Renders the input section: files, shape, values, library sizes, exclusions, orientation and labels. */
export async function renderInputSection({ data }: SectionContext): Promise<Section> {
  if (!data.completed('ingest')) {
    return skippedSection('input', 'Input', 'The ingest stage has not completed in this run.');
  }
  const ingest = data.summary<IngestFields>('ingest');
  const normalize = data.summary<NormalizeSummary>('normalize');
  const obs = data.obs();
  const parts: string[] = [];

  parts.push('<h3>Files</h3>', renderFiles(data.manifest?.inputs ?? [], ingest));
  parts.push('<h3>Shape and values</h3>', renderShape(ingest, normalize));

  const librarySizes = obs && obs.library_size ? (obs.library_size as ArrayLike<number>) : null;
  parts.push('<h3>Library sizes</h3>');
  if (librarySizes && librarySizes.length > 0) {
    parts.push(await renderLibrarySizes(librarySizes, ingest.object('values').boolean('allIntegers') === true));
  } else {
    parts.push(unavailable('Library-size distribution', 'obs.arrow has no library_size column'));
  }

  parts.push('<h3>What was excluded</h3>', renderExclusions(ingest, normalize));
  parts.push('<h3>Orientation</h3>', renderOrientation(ingest));
  parts.push('<h3>Labels</h3>', renderLabels(labelsOf(obs), ingest));
  parts.push(renderOtherFacts(ingest.remainingScalars(SHOWN_INGEST_FIELDS), 'Other values recorded by ingest'));

  return { id: 'input', title: 'Input', status: 'rendered', html: parts.join('\n') };
}

/** Files as ingest read them, with the SHA-256 the manifest recorded for the same path. */
function renderFiles(manifestInputs: FileFingerprint[], ingest: Fields<IngestFields>): string {
  const hashes = new Map(manifestInputs.map((input) => [input.path, input]));
  const files = ingest.records<IngestFileSummary>('files');
  if (files.length === 0 && manifestInputs.length === 0) return unavailable('Input files', 'neither the manifest nor the ingest summary lists them');
  const rows =
    files.length > 0
      ? files.map((file) => {
          const path = file.string('path') ?? '';
          const fingerprint = hashes.get(path) ?? [...hashes.values()].find((input) => basename(input.path) === basename(path));
          const bytes = file.number('bytes') ?? fingerprint?.bytes ?? null;
          const excluded = file.strings('excludedColumns');
          return [
            `<code>${escapeHtml(path)}</code>`,
            escapeHtml([file.string('format'), file.string('compression')].filter(Boolean).join(' + ')),
            { html: formatBytes(bytes), sort: bytes ?? 0 },
            fingerprint ? `<code class="hash">${escapeHtml(fingerprint.sha256)}</code>` : NOT_AVAILABLE,
            { html: formatInteger(file.number('samples')), sort: file.number('samples') ?? 0 },
            { html: formatInteger(file.number('genes')), sort: file.number('genes') ?? 0 },
            escapeHtml(file.string('layout') ?? ''),
            excluded.length ? escapeHtml(preview(excluded)) + ` (${excluded.length})` : 'none',
          ];
        })
      : manifestInputs.map((input) => [
          `<code>${escapeHtml(input.path)}</code>`,
          '',
          { html: formatBytes(input.bytes), sort: input.bytes },
          `<code class="hash">${escapeHtml(input.sha256)}</code>`,
          NOT_AVAILABLE,
          NOT_AVAILABLE,
          '',
          NOT_AVAILABLE,
        ]);
  const notes = files.flatMap((file) => file.strings('notes').map((note) => `${escapeHtml(basename(file.string('path') ?? ''))}: ${escapeHtml(note)}`));
  return (
    renderTable({
      columns: ['path', 'format', { label: 'size', numeric: true }, 'SHA-256', { label: 'samples', numeric: true }, { label: 'genes', numeric: true }, 'layout', 'columns left out'],
      rows,
    }) + renderList(notes)
  );
}

function renderShape(ingest: Fields<IngestFields>, normalize: Fields<NormalizeSummary>): string {
  const values = ingest.object<IngestSummary['values']>('values');
  const profile = normalize.object<NormalizeSummary['profile']>('profile');
  const kind = normalize.string('inputKind');
  const source = normalize.string('inputKindSource');
  const min = values.number('min') ?? profile.number('min');
  const max = values.number('max') ?? profile.number('max');
  const allIntegers = values.boolean('allIntegers') ?? profile.boolean('allIntegers');
  let integers = NOT_AVAILABLE;
  if (allIntegers !== null) integers = allIntegers ? 'yes' : 'no';
  const facts: [string, string][] = [
    ['samples', formatInteger(ingest.number('nSamples'))],
    ['genes', formatInteger(ingest.number('nGenes'))],
    ['stored (non-zero) values', formatInteger(ingest.number('nnz'))],
    ['sparsity (fraction of zeros)', formatPercent(ingest.number('sparsity'))],
    ['value range', min === null && max === null ? NOT_AVAILABLE : `${formatNumber(min, 4)} to ${formatNumber(max, 4)}`],
    ['median / 99th percentile of non-zero values', profile.isEmpty ? NOT_AVAILABLE : `${formatNumber(profile.number('medianNonzero'), 4)} / ${formatNumber(profile.number('p99Nonzero'), 4)}`],
    ['all values integers', integers],
    ['negative values', formatInteger(values.number('negativeCount') ?? profile.number('negativeCount'))],
    ['missing cells', values.has('missingCells') ? `${formatInteger(values.number('missingCells'))} (policy: ${escapeHtml(values.string('missingPolicy') ?? '?')})` : NOT_AVAILABLE],
    [
      'value kind',
      kind
        ? `<strong>${escapeHtml(kind)}</strong> (${source === 'option' ? 'set by option' : 'detected'}: ${escapeHtml(normalize.string('inputKindReason') ?? '')})`
        : NOT_AVAILABLE,
    ],
  ];
  return renderFacts(facts);
}

async function renderLibrarySizes(librarySizes: ArrayLike<number>, counts: boolean): Promise<string> {
  const summary = fiveNumbers(librarySizes);
  // Count libraries span orders of magnitude, so their histogram reads best on a log axis.
  const log = counts && summary.min > 0 && summary.max / summary.min > 10;
  const bins = histogramBins(librarySizes, Math.min(50, Math.max(10, Math.round(Math.sqrt(summary.n)))), log);
  const figure = await renderFigure(
    'library-sizes',
    histogramSpec(bins, { xTitle: log ? 'library size (sum of values per sample, log scale)' : 'sum of values per sample', log }),
    `Sum of the input values per sample (${formatInteger(summary.n)} samples).`,
  );
  const table = renderFacts([
    ['minimum', formatNumber(summary.min, 4)],
    ['first quartile', formatNumber(summary.q1, 4)],
    ['median', formatNumber(summary.median, 4)],
    ['third quartile', formatNumber(summary.q3, 4)],
    ['maximum', formatNumber(summary.max, 4)],
  ]);
  return `<div class="row">${figure}${table}</div>`;
}

function renderExclusions(ingest: Fields<IngestFields>, normalize: Fields<NormalizeSummary>): string {
  const items: string[] = [];

  const excluded = ingest.records<IngestSummary['excluded'][number]>('excluded').filter((e) => e.strings('columns').length > 0);
  if (excluded.length === 0) items.push('Columns left out at ingest: none.');
  for (const entry of excluded) {
    const columns = entry.strings('columns');
    items.push(`Columns left out of <code>${escapeHtml(basename(entry.string('file') ?? ''))}</code>: ${escapeHtml(preview(columns))} (${formatInteger(columns.length)}).`);
  }

  const genes = ingest.object<IngestSummary['genes']>('genes');
  if (genes.number('allZero') !== null) items.push(`Genes that are zero in every sample: ${formatInteger(genes.number('allZero'))}.`);
  const renamed = genes.array('renamed').length;
  if (renamed > 0) items.push(`Duplicate gene names made unique by renaming: ${formatInteger(renamed)}.`);
  const conflicts = genes.array('ensemblVersionConflicts').length;
  if (conflicts > 0) items.push(`Ensembl ids present both with and without a version suffix: ${formatInteger(conflicts)}.`);
  if (ingest.number('samplesAllZero') !== null) items.push(`Samples whose values are all zero: ${formatInteger(ingest.number('samplesAllZero'))}.`);
  const duplicated = ingest.number('samplesDuplicated');
  if (duplicated !== null && duplicated > 0) items.push(`Samples whose values equal another sample's (kept, see the warnings): ${formatInteger(duplicated)}.`);

  const genesIn = normalize.number('genesIn');
  const genesKept = normalize.number('genesKept');
  if (genesIn !== null && genesKept !== null) {
    items.push(`Genes dropped by normalize for being detected in too few samples: ${formatInteger(genesIn - genesKept)} of ${formatInteger(genesIn)}.`);
  }

  const metadata = ingest.object<NonNullable<IngestSummary['metadata']>>('metadata');
  if (!metadata.isEmpty) {
    const unmatched = metadata.object('unmatchedSamples');
    const extra = metadata.object('extraRows');
    items.push(
      `Metadata <code>${escapeHtml(basename(metadata.string('file') ?? ''))}</code>: ${formatInteger(metadata.number('matchedSamples'))} samples matched, ` +
        `${formatInteger(unmatched.number('count'))} matrix samples without a metadata row${unmatched.strings('examples').length ? ` (e.g. ${escapeHtml(preview(unmatched.strings('examples')))})` : ''}, ` +
        `${formatInteger(extra.number('count'))} metadata rows naming no sample${extra.strings('examples').length ? ` (e.g. ${escapeHtml(preview(extra.strings('examples')))})` : ''}.`,
    );
  }
  return renderList(items);
}

function renderOrientation(ingest: Fields<IngestFields>): string {
  const orientation = ingest.object<IngestSummary['orientation']>('orientation');
  if (orientation.isEmpty) return unavailable('Orientation check', 'the ingest summary does not record one');
  const layout = orientation.string('layout');
  const formats = ingest.records<IngestFileSummary>('files').map((file) => file.string('format'));
  let read =
    layout === 'genes-in-rows'
      ? 'The file was read with genes in rows and samples in columns (transposed on reading).'
      : 'The file was read with samples in rows and genes in columns.';
  if (formats.length > 0 && formats.every((format) => format === 'mtx')) {
    read = 'The Cell Ranger format fixes the orientation: each barcode is one sample.';
  } else if (formats.length > 0 && formats.every((format) => format === 'geo-miniml')) {
    read = 'The GEO MINiML format fixes the orientation: each sample table is one sample.';
  } else if (formats.length > 0 && formats.every((format) => format === 'mtx' || format === 'geo-miniml')) {
    read = 'The input formats fix the orientation: each barcode of a Cell Ranger matrix, and each sample table of a GEO series, is one sample.';
  }
  const evidence =
    `Sample ids that look like gene or probe ids: ${formatPercent(orientation.number('sampleIdsGeneLike'))}; ` +
    `gene ids that do: ${formatPercent(orientation.number('geneIdsGeneLike'))}; sample ids that look like gene symbols: ${formatPercent(orientation.number('sampleIdsSymbolLike'))}.`;
  if (orientation.boolean('suspicious') === true) {
    return renderCallout(
      'warning',
      'The orientation may be wrong',
      `<p>${read} ${escapeHtml(orientation.string('message') ?? '')}</p><p>${evidence} If samples and genes are swapped, rerun with the other <code>--genes-in-rows</code> setting.</p>`,
    );
  }
  return `<p>${read} The ids do not suggest that samples and genes are swapped. ${evidence}</p>`;
}

function renderLabels(labels: (string | null)[] | null, ingest: Fields<IngestFields>): string {
  const summary = ingest.object<NonNullable<IngestSummary['labels']>>('labels');
  const source = summary.object('source');
  const origin = source.isEmpty
    ? 'the label column'
    : `column <code>${escapeHtml(source.string('column') ?? '?')}</code> of <code>${escapeHtml(basename(source.string('file') ?? ''))}</code>`;
  if (!labels) return '<p>No labels: no label column was given, so the report shows no label colouring, agreement or classification.</p>';
  const counts = countValues(labels.filter((label): label is string => label !== null));
  const unlabelled = labels.filter((label) => label === null).length;
  const intro = `<p>Labels from ${origin}: ${formatInteger(counts.length)} classes, ${formatInteger(labels.length - unlabelled)} labelled samples, <strong>${formatInteger(unlabelled)} unlabelled</strong>.</p>`;
  const rows = counts.map(([label, count]) => [escapeHtml(label), { html: formatInteger(count), sort: count }, formatPercent(count / labels.length)]);
  if (unlabelled > 0) rows.push(['<em>unlabelled</em>', { html: formatInteger(unlabelled), sort: unlabelled }, formatPercent(unlabelled / labels.length)]);
  return intro + renderTable({ columns: ['label', { label: 'samples', numeric: true }, { label: 'share', numeric: true }], rows, sortable: true });
}

function preview(items: string[], limit = 8): string {
  return items.slice(0, limit).join(', ') + (items.length > limit ? ', …' : '');
}
