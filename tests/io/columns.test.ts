import { describe, expect, it } from 'vitest';
import { ColumnPatterns, describeChoices, makeUnique, suggestName } from '../../src/io/columns.js';

describe('ColumnPatterns', () => {
  it('glob', () => {
    const patterns = new ColumnPatterns(['call*']);
    expect(['call', 'call.1', 'caller', 'recall'].map((name) => patterns.matches(name))).toEqual([true, true, true, false]);
  });

  it('exact name with glob-free punctuation', () => {
    const patterns = new ColumnPatterns(['Gene Description', 'CD4+']);
    expect(patterns.matches('Gene Description')).toBe(true);
    expect(patterns.matches('CD4+')).toBe(true);
    expect(patterns.matches('CD44')).toBe(false);
  });

  it('unused patterns', () => {
    const patterns = new ColumnPatterns(['a', 'b*']);
    patterns.matches('a');
    expect(patterns.unused()).toEqual(['b*']);
  });
});

describe('suggestName', () => {
  it('case difference', () => {
    expect(suggestName('disease', ['Disease', 'age'])).toBe('Disease');
  });

  it('typo', () => {
    expect(suggestName('subtyp', ['sample', 'subtype'])).toBe('subtype');
  });

  it('nothing close', () => {
    expect(suggestName('xyz', ['sample', 'subtype'])).toBeNull();
  });

  it('choices text', () => {
    expect(describeChoices('lable', ['sample', 'label'])).toBe("did you mean 'label'? available columns: 'sample', 'label'");
  });
});

describe('makeUnique', () => {
  it('suffixes repeats like scanpy', () => {
    expect(makeUnique(['A', 'B', 'A', 'A']).names).toEqual(['A', 'B', 'A-1', 'A-2']);
  });

  it('skips taken suffixes', () => {
    expect(makeUnique(['A', 'A-1', 'A']).names).toEqual(['A', 'A-1', 'A-2']);
  });

  it('unique names unchanged', () => {
    expect(makeUnique(['A', 'B']).renamed).toEqual([]);
  });
});
