import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { INVALID, MISSING, MissingValues } from '../../src/io/cells.js';
import { scanDelimited, type RecordView } from '../../src/io/fastDelimited.js';
import { Rng } from '../../src/util/rng.js';
import { fixtureDir, writeFixture } from '../fixtures/matrices.js';

/** Reads every record's fields as text, with its line. */
async function records(path: string, delimiter = ',', kind: 'text' | 'gzip' = 'text'): Promise<{ fields: string[]; line: number }[]> {
  const out: { fields: string[]; line: number }[] = [];
  await scanDelimited(path, { delimiter, kind }, (record: RecordView, line: number) => {
    out.push({ fields: Array.from({ length: record.length }, (_, k) => record.text(k)), line });
  });
  return out;
}

/** Draws a random CSV field: a number, an empty cell, or quoted text with delimiters, quotes and line breaks. */
function randomField(rng: Rng): string {
  const roll = rng.uniform();
  if (roll < 0.5) return String(rng.int(1000));
  if (roll < 0.6) return '';
  if (roll < 0.7) return (rng.uniform() * 100 - 50).toFixed(3);
  const pieces = ['a', 'b c', ',', '""', '\n', 'é', 'x\r\ny'];
  let text = '';
  for (let i = 0; i < 1 + rng.int(4); i++) text += pieces[rng.int(pieces.length)];
  return `"${text}"`;
}

describe('scanDelimited', () => {
  it('agrees with papaparse across chunk boundaries', async () => {
    const rng = new Rng(3);
    const lines: string[] = [];
    let size = 0;
    // Past 4 MB, so that records straddle the reader's scan blocks.
    while (size < 5_000_000) {
      const line = Array.from({ length: 40 }, () => randomField(rng)).join(',');
      lines.push(line);
      size += line.length + 2;
    }
    const text = lines.join('\r\n') + '\r\n';
    const expected = Papa.parse<string[]>(text, { delimiter: ',' }).data.filter((row) => !(row.length === 1 && row[0] === ''));
    const dir = fixtureDir();
    for (const gzip of [false, true]) {
      const path = writeFixture(dir, gzip ? 'r.csv.gz' : 'r.csv', text, gzip);
      const got = await records(path, ',', gzip ? 'gzip' : 'text');
      expect(got.length).toBe(expected.length);
      expect(got.map((r) => r.fields)).toEqual(expected);
    }
  });

  it('counts physical lines', async () => {
    const path = writeFixture(fixtureDir(), 'l.csv', 'a,b\n"x\ny",1\n\n"p",2\n');
    expect((await records(path)).map((r) => r.line)).toEqual([1, 2, 5]);
  });

  it('keeps literal quotes inside unquoted fields', async () => {
    const path = writeFixture(fixtureDir(), 'q.tsv', 'a\tB" subunit\tc\n');
    expect((await records(path, '\t'))[0].fields).toEqual(['a', 'B" subunit', 'c']);
  });

  it('reads an empty last field', async () => {
    const path = writeFixture(fixtureDir(), 'e.csv', 'a,b,\r\n');
    expect((await records(path))[0].fields).toEqual(['a', 'b', '']);
  });

  it('reads a last line without a line break', async () => {
    const path = writeFixture(fixtureDir(), 'n.csv', 'a,b\n1,2');
    expect((await records(path)).map((r) => r.fields)).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('parses numbers like Number()', async () => {
    const texts = ['0', '7', '-12', '+3', '0.1', '123.456', '-0.000001', '1.', '.5', '99999999999999', '1e5', '1.5E-3', ' 4', '12345678901234567890', '0.1234567890123456789'];
    const path = writeFixture(fixtureDir(), 'v.csv', texts.join(',') + '\n');
    const missing = new MissingValues(['NA']);
    const parsed: unknown[] = [];
    await scanDelimited(path, { delimiter: ',', kind: 'text' }, (record) => {
      for (let k = 0; k < record.length; k++) parsed.push(record.number(k, missing));
    });
    expect(parsed).toEqual(texts.map((text) => Number(text)));
  });

  it('parses missing and invalid cells', async () => {
    const path = writeFixture(fixtureDir(), 'm.csv', 'NA,,x,-,"3"\n');
    const missing = new MissingValues(['NA']);
    const parsed: unknown[] = [];
    await scanDelimited(path, { delimiter: ',', kind: 'text' }, (record) => {
      for (let k = 0; k < record.length; k++) parsed.push(record.number(k, missing));
    });
    expect(parsed).toEqual([MISSING, MISSING, INVALID, INVALID, 3]);
  });
});
