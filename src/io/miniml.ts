import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { InputError } from '../util/errors.js';
import { MISSING, diagnoseCell, parseCell } from './cells.js';
import { FLOAT32_MAX, float32RangeError, type CohortBuilder } from './cohortBuilder.js';
import { listNames } from './columns.js';
import type { MetadataTable } from './metadata.js';
import { readWholeText } from './source.js';
import type { MatrixFileReport, MatrixReadSpec } from './textMatrix.js';

/** Sample annotation columns taken from the XML, before the characteristics tags. */
const FIXED_COLUMNS = ['geo_accession', 'title', 'source', 'platform'] as const;

/**
 * Finds the MINiML XML for `path`: the .xml file itself, or the one XML file of a directory
 * (GEO's GSExxx_family.xml once the family archive is unpacked). Returns null otherwise.
 */
export function findMinimlXml(path: string): string | null {
  if (!statSync(path).isDirectory()) return /\.xml(\.gz)?$/i.test(path) ? path : null;
  const xml = readdirSync(path).filter((name) => /\.xml(\.gz)?$/i.test(name));
  if (xml.length === 0) return null;
  const family = xml.filter((name) => /_family\.xml(\.gz)?$/i.test(name));
  const chosen = family.length === 1 ? family : xml;
  if (chosen.length > 1) {
    throw new InputError(
      `the directory contains ${chosen.length} XML files (${listNames(chosen, 3)}) and genevae cannot tell which one describes the series`,
      { file: path },
      'give the MINiML file itself as the input',
    );
  }
  return join(path, chosen[0]);
}

type XmlNode = string | { '#text'?: string; [key: string]: unknown };

/** Text content of a parsed element, with or without attributes. */
function textOf(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'string') return node.trim();
  const text = (node as { '#text'?: unknown })['#text'];
  return text === undefined ? '' : String(text).trim();
}

interface SampleRecord {
  accession: string;
  /** 1-based line of the <Sample> element in the XML. */
  line: number;
  title: string;
  platform: string;
  /** Source per channel. */
  sources: string[];
  /** Characteristics by column name, channel 2 and above prefixed with 'ch2_' etc. */
  characteristics: Map<string, string>;
  dataFile: string;
  idColumn: number;
  valueColumn: number;
}

function parseSamples(xmlPath: string): SampleRecord[] {
  const text = readWholeText(xmlPath);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    removeNSPrefix: true,
    isArray: (name) => ['Sample', 'Channel', 'Characteristics', 'Column', 'Platform'].includes(name),
  });
  if (/<MINiML[\s>]/.test(text) && !/<\/MINiML>\s*$/.test(text)) {
    throw new InputError('the XML ends before its closing </MINiML> tag, so the file is truncated', { file: xmlPath }, 'download the family archive again and unpack it in full');
  }
  let document: { MINiML?: { Sample?: Record<string, unknown>[] } };
  try {
    document = parser.parse(text) as typeof document;
  } catch (error) {
    throw new InputError(`the XML cannot be parsed (${(error as Error).message})`, { file: xmlPath }, 'check that the MINiML file was downloaded completely');
  }
  if (!document.MINiML) {
    throw new InputError('the XML is not a GEO MINiML document (no <MINiML> root element)', { file: xmlPath }, "download the series' MINiML family file (GSExxx_family.xml.tgz) from GEO");
  }
  const samples = document.MINiML.Sample ?? [];
  if (samples.length === 0) throw new InputError('the MINiML document has no <Sample> records', { file: xmlPath }, "download the series' family file, which contains the samples");

  // The parser does not report positions, so find each <Sample> in the text for error messages.
  const lines: number[] = [];
  const pattern = /<Sample[\s>]/g;
  let line = 1;
  let from = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    for (let i = from; i < match.index; i++) if (text.charCodeAt(i) === 10) line++;
    from = match.index;
    lines.push(line);
  }

  return samples.map((sample, s) => {
    const accession = String(sample.iid ?? textOf(sample.Accession)).trim();
    const where = { file: xmlPath, line: lines[s], sample: accession };
    const channels = (sample.Channel as Record<string, unknown>[] | undefined) ?? [];
    const characteristics = new Map<string, string>();
    channels.forEach((channel, c) => {
      const prefix = c === 0 ? '' : `ch${c + 1}_`;
      for (const node of (channel.Characteristics as XmlNode[] | undefined) ?? []) {
        let tag = typeof node === 'string' ? '' : String(node.tag ?? '').trim();
        let value = textOf(node);
        // Older records carry 'key: value' text without a tag attribute.
        if (tag === '' && /^[^:]{1,60}:/.test(value)) {
          tag = value.slice(0, value.indexOf(':')).trim();
          value = value.slice(value.indexOf(':') + 1).trim();
        }
        const name = `${prefix}${tag === '' ? 'characteristics' : tag}`;
        const earlier = characteristics.get(name);
        characteristics.set(name, earlier === undefined ? value : `${earlier}; ${value}`);
      }
    });
    const table = sample['Data-Table'] as Record<string, unknown> | undefined;
    const columns = ((table?.Column as Record<string, unknown>[] | undefined) ?? []).map((column) => textOf(column.Name));
    const dataFile = textOf(table?.['External-Data']);
    if (!table || dataFile === '') {
      throw new InputError('the sample has no data table in the MINiML file', where, 'download the full family file, because the short one contains no data tables');
    }
    const idColumn = columns.indexOf('ID_REF');
    const valueColumn = columns.indexOf('VALUE');
    if (idColumn < 0 || valueColumn < 0) {
      throw new InputError(
        `the sample's data table has no ${idColumn < 0 ? 'ID_REF' : 'VALUE'} column (columns: ${columns.join(', ') || 'none'})`,
        where,
        'genevae reads the VALUE column of each sample, keyed by ID_REF',
      );
    }
    return {
      accession,
      line: lines[s],
      title: textOf(sample.Title),
      platform: String((sample['Platform-Ref'] as Record<string, unknown> | undefined)?.ref ?? '').trim(),
      sources: channels.map((channel) => textOf(channel.Source)),
      characteristics,
      dataFile,
      idColumn,
      valueColumn,
    };
  });
}

/** Builds a metadata table from the XML's sample annotations: one row per sample, keyed by GSM accession. */
function annotationTable(xmlPath: string, samples: SampleRecord[]): MetadataTable {
  const channels = Math.max(...samples.map((sample) => sample.sources.length));
  const sourceColumns = Array.from({ length: channels }, (_, c) => (c === 0 ? 'source' : `source_ch${c + 1}`));
  const tags: string[] = [];
  for (const sample of samples) for (const tag of sample.characteristics.keys()) if (!tags.includes(tag)) tags.push(tag);
  const fixed = new Set<string>([...FIXED_COLUMNS, ...sourceColumns]);
  const tagColumns = tags.map((tag) => (fixed.has(tag) ? `characteristics_${tag}` : tag));
  return {
    path: xmlPath,
    columns: ['geo_accession', 'title', ...sourceColumns, 'platform', ...tagColumns],
    rows: samples.map((sample) => [
      sample.accession,
      sample.title,
      ...sourceColumns.map((_, c) => sample.sources[c] ?? ''),
      sample.platform,
      ...tags.map((tag) => sample.characteristics.get(tag) ?? ''),
    ]),
    lines: samples.map((sample) => sample.line),
  };
}

/** Returns the path of a sample's data table (the name the XML gives, or that name gzipped), or null when neither exists. */
function locateTable(directory: string, name: string): string | null {
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(directory, candidate);
    if (existsSync(path)) return path;
  }
  return null;
}

/** Returns the files a MINiML series is read from: the XML and every sample table found beside it. */
export function minimlFiles(xmlPath: string): string[] {
  const directory = dirname(xmlPath);
  const tables = parseSamples(xmlPath).map((sample) => locateTable(directory, sample.dataFile));
  return [xmlPath, ...tables.filter((table): table is string => table !== null)];
}

/** A MINiML series read into the cohort, with its sample annotations for use as metadata. */
export interface MinimlReport extends MatrixFileReport {
  annotations: MetadataTable;
}

/**
 * Reads a GEO MINiML series: the sample records of the XML and, per sample, the header-less
 * data table it names (GSMxxx-tbl-1.txt, gzipped or not) beside it. Each sample's VALUE
 * column becomes one sample of the cohort, keyed by its ID_REF column; every table must hold
 * the same ids. The samples' title, source and characteristics are returned as annotations.
 */
export async function readMinimlSeries(xmlPath: string, fileIndex: number, spec: MatrixReadSpec, cohort: CohortBuilder): Promise<MinimlReport> {
  const notes: string[] = [];
  const samples = parseSamples(xmlPath);
  const platforms = new Map<string, number>();
  for (const sample of samples) platforms.set(sample.platform, (platforms.get(sample.platform) ?? 0) + 1);
  if (platforms.size > 1) {
    throw new InputError(
      `the series mixes platforms (${[...platforms].map(([platform, n]) => `${platform || 'none'}: ${n} samples`).join(', ')}), whose probe ids differ`,
      { file: xmlPath },
      'read one platform at a time: keep only its <Sample> records in a copy of the XML, or use the per-platform series matrix files',
    );
  }
  const directory = dirname(xmlPath);
  const tables = samples.map((sample) => locateTable(directory, sample.dataFile));
  const missingTables = samples.filter((_, s) => tables[s] === null);
  if (missingTables.length > 0) {
    throw new InputError(
      `${missingTables.length} of ${samples.length} sample data tables are not beside the XML (${listNames(missingTables.map((s) => s.dataFile), 3)})`,
      { file: xmlPath, line: missingTables[0].line, sample: missingTables[0].accession },
      "unpack GEO's family archive (GSExxx_family.xml.tgz) in full into one directory",
    );
  }
  if (samples.some((sample) => sample.sources.length > 1)) {
    notes.push('two-channel samples: VALUE is read as given (usually a log ratio of the channels)');
  }

  let bytes = statSync(xmlPath).size;
  let lines = 0;
  let rows = 0;
  let missingCells = 0;
  let previousIds: string[] | null = null;
  let target: Int32Array | null = null;
  let identity = true;
  for (const [s, sample] of samples.entries()) {
    const path = tables[s]!;
    bytes += statSync(path).size;
    const text = readWholeText(path);
    const ids: string[] = [];
    const values: number[] = [];
    const tableLines = text.split('\n');
    if (tableLines[tableLines.length - 1] === '') tableLines.pop();
    lines += tableLines.length;
    tableLines.forEach((content, i) => {
      const fields = (content.endsWith('\r') ? content.slice(0, -1) : content).split('\t');
      const where = { file: path, line: i + 1, sample: sample.accession };
      if (fields.length <= Math.max(sample.idColumn, sample.valueColumn)) {
        throw new InputError(`the line has ${fields.length} tab-separated fields, too few for the ID_REF and VALUE columns the XML names`, where, 'check that the table was downloaded completely');
      }
      const id = fields[sample.idColumn].trim();
      if (id === '') throw new InputError('the ID_REF field is empty', where, 'every line of a GEO sample table needs a probe id');
      let value = parseCell(fields[sample.valueColumn], spec.missing);
      if (value === MISSING || fields[sample.valueColumn].trim().toLowerCase() === 'null') {
        missingCells++;
        if (spec.missingPolicy === 'error') {
          throw new InputError(
            `the VALUE of probe '${id}' is missing ('${fields[sample.valueColumn]}')`,
            { ...where, gene: id },
            'remove the probe from every table, or pass --missing zero to store missing values as 0 (on a log scale a low value rather than an absent one)',
          );
        }
        value = 0;
      }
      if (typeof value !== 'number') {
        const cell = fields[sample.valueColumn].trim();
        throw new InputError(
          diagnoseCell(fields[sample.valueColumn], 'VALUE', 'GEO sample table').problem,
          { ...where, gene: id },
          `correct the table, or declare the text missing with --na-values '${cell}' --missing zero (stored as 0, which on a log scale is a low value rather than an absent one)`,
        );
      }
      if (value > FLOAT32_MAX || value < -FLOAT32_MAX) throw float32RangeError(value, { ...where, gene: id });
      ids.push(id);
      values.push(value);
    });
    if (ids.length === 0) throw new InputError('the sample data table is empty', { file: path, sample: sample.accession }, 'download the table again');
    rows += ids.length;
    if (previousIds === null || !sameIds(previousIds, ids)) {
      if (previousIds !== null) checkSameProbes(previousIds, samples[0].accession, ids, path, sample.accession);
      target = cohort.alignGenes(ids, path);
      identity = target.every((t, j) => t === j);
      if (previousIds !== null) notes.push(`${sample.accession}'s table lists the probes in another order; aligned by id`);
      previousIds = ids;
    }
    const order = Int32Array.from(ids, (_, k) => k);
    cohort.addSample(sample.accession, fileIndex, order, values, values.length, identity ? null : target);
  }
  if (samples.some((sample, s) => basename(tables[s]!) !== sample.dataFile)) {
    notes.push('read the sample tables gzipped (the XML names them uncompressed)');
  }
  notes.push(`read ${basename(xmlPath)} and ${samples.length} sample tables, platform ${[...platforms.keys()][0] || 'unknown'}; probe ids are kept as text`);

  return {
    path: xmlPath,
    format: 'geo-miniml',
    compression: null,
    bytes,
    lines,
    rows,
    columns: samples.length,
    columnNames: [],
    samples: samples.length,
    genes: previousIds?.length ?? 0,
    layout: 'genes-in-rows',
    excludedColumns: [],
    labelColumnFound: false,
    missingCells,
    notes,
    annotations: annotationTable(xmlPath, samples),
  };
}

/** Stops when a sample's table lists other probes than the first sample's, naming a few on each side. */
function checkSameProbes(first: string[], firstSample: string, ids: string[], path: string, sample: string): void {
  const mine = new Set(ids);
  const theirs = new Set(first);
  const lacking = first.filter((id) => !mine.has(id));
  const extra = ids.filter((id) => !theirs.has(id));
  if (lacking.length === 0 && extra.length === 0) return;
  const parts: string[] = [];
  if (lacking.length > 0) parts.push(`it lacks ${lacking.length} probes of ${firstSample}'s table (${listNames(lacking, 5)})`);
  if (extra.length > 0) parts.push(`it has ${extra.length} probes that ${firstSample}'s table lacks (${listNames(extra, 5)})`);
  throw new InputError(
    `the sample's probe list differs from the first sample's: ${parts.join('; ')}`,
    { file: path, sample },
    'every sample of a series must list the same probes; check that the table was downloaded completely',
  );
}

/** Returns an error when `path` is one sample's table of a MINiML series, which needs its XML; null for any other path. */
export function minimlPartError(path: string): InputError | null {
  if (!/^GSM\d+-tbl-\d+\.txt(\.gz)?$/i.test(basename(path))) return null;
  return new InputError(
    "this is one sample's data table of a GEO MINiML series, which is read together with the series' XML",
    { file: path },
    readdirSync(dirname(path)).some((name) => /\.xml(\.gz)?$/i.test(name))
      ? `give the directory ${dirname(path)}, which contains the series' XML`
      : "give the directory that contains the series' family XML (GSExxx_family.xml) and every sample table",
  );
}

function sameIds(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}
