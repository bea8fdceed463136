import { describe, expect, it } from 'vitest';
import { escapeHtml, formatBytes, formatInteger, formatMeanSpread, formatNumber, formatPercent, formatSeconds, NOT_AVAILABLE } from '../../src/report/format.js';

describe('report formatting', () => {
  it('escapes markup characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('shows missing numbers as not available', () => {
    expect(formatNumber(null)).toBe(NOT_AVAILABLE);
    expect(formatInteger(undefined)).toBe(NOT_AVAILABLE);
    expect(formatPercent(NaN)).toBe(NOT_AVAILABLE);
  });

  it('formats numbers by magnitude', () => {
    expect(formatNumber(0.000012, 3)).toBe('1.20e-5');
    expect(formatNumber(12_345_678, 3)).toBe('1.23e+7');
    expect(formatNumber(0.87312, 3)).toBe('0.873');
    expect(formatNumber(50_000)).toBe('50,000');
  });

  it('formats sizes and durations', () => {
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatSeconds(12.34)).toBe('12.3 s');
    expect(formatSeconds(245)).toBe('4 min 05 s');
  });

  it('formats a mean with its spread', () => {
    expect(formatMeanSpread(0.9123, 0.0214)).toBe('0.912 ± 0.021');
    expect(formatMeanSpread(0.9123, null)).toBe('0.912');
  });
});
