import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layoutArguments, newCohortIngestOptions, withRunLayoutHint } from '../../src/cli/ingest.js';
import { InputError } from '../../src/util/errors.js';
import { Logger } from '../../src/util/log.js';

const GOLUB_LAYOUT = {
  genesInRows: true,
  idColumn: 'Gene Accession Number',
  excludeColumns: ['Gene Description', 'call*'],
  metadata: '/data/actual.csv',
};

/** Creates a logger that collects its warnings instead of printing them. */
function collectingLogger(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const log = new Logger('test');
  log.warn = (message: string) => {
    warnings.push(message);
  };
  return { log, warnings };
}

function runWithManifest(ingest: object): string {
  const runDir = mkdtempSync(join(tmpdir(), 'genevae-layout-'));
  writeFileSync(join(runDir, 'manifest.json'), JSON.stringify({ options: { ingest } }));
  return runDir;
}

describe('layoutArguments', () => {
  it('lists flags that differ from defaults', () => {
    expect(layoutArguments(GOLUB_LAYOUT)).toEqual([
      '--genes-in-rows',
      '--id-column',
      "'Gene Accession Number'",
      '--exclude-columns',
      "'Gene Description'",
      '--exclude-columns',
      "'call*'",
    ]);
  });

  it('is empty for the defaults', () => {
    expect(layoutArguments({ genesInRows: false, excludeColumns: [], naValues: ['NA', 'NaN', 'nan'] })).toEqual([]);
  });
});

describe('withRunLayoutHint', () => {
  it('names the run layout when reading fails', async () => {
    const { log, warnings } = collectingLogger();
    const failing = () => Promise.reject(new InputError("'AFFX' is not a number"));

    await expect(withRunLayoutHint(runWithManifest(GOLUB_LAYOUT), 'new.csv', {}, log, failing)).rejects.toThrow(InputError);

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("--genes-in-rows --id-column 'Gene Accession Number'");
  });

  it('stays quiet when the layouts match', async () => {
    const { log, warnings } = collectingLogger();
    const failing = () => Promise.reject(new InputError('ragged row'));

    await expect(withRunLayoutHint(runWithManifest(GOLUB_LAYOUT), 'new.csv', GOLUB_LAYOUT, log, failing)).rejects.toThrow('ragged row');

    expect(warnings).toEqual([]);
  });
});

describe('newCohortIngestOptions', () => {
  it('takes the run layout with --like-model', () => {
    const options = newCohortIngestOptions(runWithManifest(GOLUB_LAYOUT), { likeModel: true }, 'new.csv');
    expect(options).toEqual({ genesInRows: true, idColumn: 'Gene Accession Number', excludeColumns: ['Gene Description', 'call*'] });
  });

  it('lets the command line override the run layout', () => {
    const options = newCohortIngestOptions(runWithManifest(GOLUB_LAYOUT), { likeModel: true, idColumn: 'probe', metadata: 'labels.csv' }, 'new.csv');
    expect(options.idColumn).toBe('probe');
    expect(options.genesInRows).toBe(true);
    expect(options.metadata).toMatch(/labels\.csv$/);
  });

  it('leaves the run layout out without --like-model', () => {
    expect(newCohortIngestOptions(runWithManifest(GOLUB_LAYOUT), {}, 'new.csv')).toEqual({});
  });

  it('ignores the run layout for a Cell Ranger input', () => {
    const cellRanger = mkdtempSync(join(tmpdir(), 'genevae-tenx-'));
    writeFileSync(join(cellRanger, 'matrix.mtx'), '%%MatrixMarket matrix coordinate integer general\n1 1 0\n');
    writeFileSync(join(cellRanger, 'genes.tsv'), 'G1\n');
    writeFileSync(join(cellRanger, 'barcodes.tsv'), 'C1\n');
    expect(newCohortIngestOptions(runWithManifest(GOLUB_LAYOUT), { likeModel: true }, cellRanger)).toEqual({});
  });

  it('rejects --like-model without a manifest', () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'genevae-model-'));
    expect(() => newCohortIngestOptions(modelDir, { likeModel: true }, 'new.csv')).toThrow(/needs the model's run directory/);
  });
});
