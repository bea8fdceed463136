import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatFloat32, writeFrameTsv } from '../../src/report/exports.js';

describe('report exports', () => {
  it('writes float32 values that read back exactly', () => {
    for (const value of [0.1, 1 / 3, -123.456, 1e-8, 3.4e38]) {
      const stored = Math.fround(value);
      expect(Math.fround(Number(formatFloat32(stored))), String(value)).toBe(stored);
    }
  });

  it('writes short text for float32 values', () => {
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
  });

  it('escapes tabs and line breaks in TSV fields', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'genevae-tsv-')), 'x.tsv');
    writeFrameTsv(path, { sample_id: ['a\tb', 'c\nd'], label: [null, 'x'] });
    expect(readFileSync(path, 'utf8')).toBe('sample_id\tlabel\na\\tb\t\nc\\nd\tx\n');
  });
});
