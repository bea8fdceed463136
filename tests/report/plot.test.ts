import { describe, expect, it } from 'vitest';
import { compactSvg, histogramBins, renderSvg, scatterSpec } from '../../src/report/plot.js';

describe('report plots', () => {
  it('renders a scatter to SVG with one mark per point', async () => {
    const points = [
      { x: 0, y: 0, group: 'a' },
      { x: 1, y: 2, group: 'b' },
      { x: 2, y: 1, group: 'a' },
    ];
    const svg = await renderSvg(scatterSpec(points, { xTitle: 'x', yTitle: 'y', colorTitle: 'g', groups: ['a', 'b'] }), 'test');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path transform="translate/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('rounds geometry but not text', () => {
    const svg = compactSvg('<g transform="translate(1.23456,7.891)"><text>0.125</text></g>', 'p');
    expect(svg).toBe('<g transform="translate(1.2,7.9)"><text>0.125</text></g>');
  });

  it('prefixes element ids per plot', () => {
    const svg = compactSvg('<clipPath id="clip1"/><g clip-path="url(#clip1)"/>', 'plot-a');
    expect(svg).toBe('<clipPath id="plot-a-clip1"/><g clip-path="url(#plot-a-clip1)"/>');
  });

  it('bins values on a log scale', () => {
    const bins = histogramBins([10, 100, 1000, 0, -5], 2, true);
    expect(bins.map((b) => b.count)).toEqual([1, 2]);
    expect(bins[0].start).toBeCloseTo(10);
  });
});
