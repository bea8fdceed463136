import { describe, expect, it } from 'vitest';
import { INVALID, MISSING, MissingValues, diagnoseCell, parseCell } from '../../src/io/cells.js';

const missing = new MissingValues(['NA', 'NaN', 'nan']);

describe('parseCell', () => {
  it.each([
    ['0', 0],
    ['17', 17],
    ['-2.5', -2.5],
    ['1e3', 1000],
    [' 4 ', 4],
    ['+3', 3],
    ['.5', 0.5],
  ])('number %s', (text, expected) => {
    expect(parseCell(text, missing)).toBe(expected);
  });

  it.each(['', '  ', 'NA', 'NaN', 'nan', ' NA '])('missing %j', (text) => {
    expect(parseCell(text, missing)).toBe(MISSING);
  });

  it.each(['n/a', 'inf', 'Infinity', '-inf', '1,5', '0x10', '0b1', '1_000', 'abc'])('invalid %s', (text) => {
    expect(parseCell(text, missing)).toBe(INVALID);
  });

  it('numeric missing value', () => {
    expect(parseCell('-999', new MissingValues(['-999']))).toBe(MISSING);
  });
});

describe('diagnoseCell', () => {
  it('decimal comma', () => {
    expect(diagnoseCell('1,5', 'g1', 'TSV').problem).toContain('decimal comma');
  });

  it('ambiguous comma', () => {
    expect(diagnoseCell('1,234', 'g1', 'TSV').problem).toContain('either a thousands separator or a decimal comma');
  });

  it('thousands separators', () => {
    expect(diagnoseCell('12,345,678', 'g1', 'TSV').problem).toContain('thousands separators');
  });

  it('infinity', () => {
    expect(diagnoseCell('-Inf', 'g1', 'CSV').problem).toContain('not a finite number');
  });

  it('detection call', () => {
    expect(diagnoseCell('P', 'call.3', 'CSV').hint).toContain("--exclude-columns 'call*'");
  });

  it('annotation text', () => {
    expect(diagnoseCell('kinase', 'Description', 'CSV').hint).toContain("--exclude-columns 'Description'");
  });
});
