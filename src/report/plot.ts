import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { escapeHtml } from './format.js';

/**
 * Static plots. A Vega-Lite spec is compiled and rendered to SVG in Node, because vega's
 * headless renderer needs neither a browser nor a canvas. The SVG is embedded inline in the
 * report, so the page shows every plot with JavaScript disabled and fetches nothing.
 */

/** Settings shared by every plot: no per-mark ARIA labels (they would double the SVG size), a plain font. */
const BASE_CONFIG = {
  aria: false,
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260, titleLimit: 260 },
};

/** SVG attributes whose numbers are pixel positions; one decimal place is below what a screen shows. */
const GEOMETRY_ATTRIBUTE = /\b(d|transform|x|y|x1|x2|y1|y2|width|height|points)="([^"]*)"/g;

/** Renders a Vega-Lite spec to an SVG string, with pixel coordinates rounded to 0.1 to keep the file small. */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const withConfig = { ...spec, config: { ...BASE_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const compiled = compile(withConfig).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  const svg = await view.toSVG();
  view.finalize();
  return compactSvg(svg, idPrefix);
}

/**
 * Rounds geometry to one decimal and makes element ids unique to this plot: vega numbers its
 * clip paths and gradients per process, and two SVGs inline in one page share one id space.
 */
export function compactSvg(svg: string, idPrefix: string): string {
  const rounded = svg.replace(GEOMETRY_ATTRIBUTE, (_match, name: string, value: string) => {
    const compact = value.replace(/-?\d+\.\d{2,}(e-?\d+)?/g, (number) => {
      const fixed = Math.round(Number(number) * 10) / 10;
      return String(Object.is(fixed, -0) ? 0 : fixed);
    });
    return `${name}="${compact}"`;
  });
  const safePrefix = idPrefix.replace(/[^A-Za-z0-9_-]/g, '-');
  return rounded
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${safePrefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${safePrefix}-${id})`)
    .replace(/(xlink:)?href="#([^"]+)"/g, (_m, xlink: string | undefined, id: string) => `${xlink ?? ''}href="#${safePrefix}-${id}"`);
}

/** Renders a spec as an inline SVG figure with its caption; `name` identifies the plot for tests and anchors. */
export async function renderFigure(name: string, spec: TopLevelSpec, captionHtml: string): Promise<string> {
  const svg = await renderSvg(spec, `plot-${name}`);
  return `<figure class="plot" id="plot-${escapeHtml(name)}" data-plot="${escapeHtml(name)}">${svg}<figcaption>${captionHtml}</figcaption></figure>`;
}

/** Picks categorical colours: tableau10 up to 10 groups, tableau20 above. Colours repeat beyond 20, and the captions state it. */
export function categoricalScheme(groups: number): 'tableau10' | 'tableau20' {
  return groups <= 10 ? 'tableau10' : 'tableau20';
}

export interface HistogramBin {
  start: number;
  end: number;
  count: number;
}

/** Equal-width bins over `values`, on log10 when `log` is set (non-positive values are then left out). */
export function histogramBins(values: ArrayLike<number>, binCount = 40, log = false): HistogramBin[] {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    finite.push(log ? Math.log10(v) : v);
  }
  if (finite.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const v of finite) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (max === min) {
    const start = log ? 10 ** min : min;
    return [{ start, end: start, count: finite.length }];
  }
  const width = (max - min) / binCount;
  const counts = new Array<number>(binCount).fill(0);
  for (const v of finite) counts[Math.min(binCount - 1, Math.floor((v - min) / width))]++;
  return counts.map((count, i) => {
    const start = min + i * width;
    const end = start + width;
    return { start: log ? 10 ** start : start, end: log ? 10 ** end : end, count };
  });
}

export function histogramSpec(bins: HistogramBin[], options: { xTitle: string; yTitle?: string; log?: boolean }): TopLevelSpec {
  return {
    width: 420,
    height: 220,
    data: { values: bins },
    mark: { type: 'rect', color: '#4c78a8', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: {
        field: 'start',
        type: 'quantitative',
        title: options.xTitle,
        // A log axis would otherwise round its domain out to whole decades, leaving most of the plot empty.
        scale: options.log && bins.length > 0 ? { type: 'log', domain: [bins[0].start, bins[bins.length - 1].end], nice: false } : { zero: false },
      },
      x2: { field: 'end' },
      y: { field: 'count', type: 'quantitative', title: options.yTitle ?? 'samples' },
    },
  };
}

export interface ScatterPoint {
  x: number;
  y: number;
  group: string;
}

export function scatterSpec(
  points: ScatterPoint[],
  options: { xTitle: string; yTitle: string; colorTitle: string; groups: string[]; pointSize?: number },
): TopLevelSpec {
  return {
    width: 420,
    height: 380,
    data: { values: points },
    mark: { type: 'circle', size: options.pointSize ?? 12, opacity: 0.75 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.xTitle, scale: { zero: false }, axis: { grid: false } },
      y: { field: 'y', type: 'quantitative', title: options.yTitle, scale: { zero: false }, axis: { grid: false } },
      color: {
        field: 'group',
        type: 'nominal',
        title: options.colorTitle,
        sort: options.groups,
        scale: { scheme: categoricalScheme(options.groups.length), domain: options.groups },
        legend: { columns: options.groups.length > 15 ? 2 : 1, symbolLimit: 60 },
      },
    },
  };
}

export interface LineRow {
  x: number;
  y: number;
  series: string;
}

export function lineSpec(
  rows: LineRow[],
  options: {
    xTitle: string;
    yTitle: string;
    seriesTitle?: string;
    logY?: boolean;
    width?: number;
    height?: number;
    /** Adds a dashed y = x line over [0, 1] (ROC curves, calibration plots). */
    diagonal?: boolean;
    points?: boolean;
    xDomain?: [number, number];
    yDomain?: [number, number];
  },
): TopLevelSpec {
  const series = [...new Set(rows.map((row) => row.series))];
  const line = {
    mark: { type: 'line' as const, point: options.points ?? false, strokeWidth: 1.8, interpolate: 'linear' as const },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative' as const,
        title: options.xTitle,
        scale: options.xDomain ? { domain: options.xDomain } : { zero: false },
      },
      y: {
        field: 'y',
        type: 'quantitative' as const,
        title: options.yTitle,
        scale: options.logY ? { type: 'log' as const } : options.yDomain ? { domain: options.yDomain } : { zero: false },
      },
      color: {
        field: 'series',
        type: 'nominal' as const,
        title: options.seriesTitle ?? null,
        sort: series,
        scale: { scheme: categoricalScheme(series.length) },
        legend: series.length > 1 ? {} : null,
      },
    },
  };
  const size = { width: options.width ?? 360, height: options.height ?? 220 };
  if (!options.diagonal) return { ...size, data: { values: rows }, ...line };
  return {
    ...size,
    data: { values: rows },
    layer: [
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999', strokeWidth: 1 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      line,
    ],
  };
}

export interface HeatCell {
  x: string;
  y: string;
  value: number;
  /** Text printed in the cell; omitted on large grids where it would not fit. */
  text?: string;
}

export function heatmapSpec(
  cells: HeatCell[],
  options: {
    xTitle: string;
    yTitle: string;
    colorTitle: string;
    xOrder: string[];
    yOrder: string[];
    /** Diverging colours centred at zero (log fold changes, z-scores); sequential otherwise. */
    diverging?: boolean;
    /** Fixed colour domain of a sequential scale, e.g. [0, 1] for shares. */
    domain?: [number, number];
    cellSize?: number;
  },
): TopLevelSpec {
  const cell = options.cellSize ?? Math.max(8, Math.min(36, Math.floor(560 / Math.max(options.xOrder.length, 1))));
  const maxAbs = Math.max(1e-9, ...cells.map((c) => Math.abs(c.value)));
  const colorScale = options.diverging
    ? { scheme: 'redblue', reverse: true, domain: [-maxAbs, maxAbs] }
    : { scheme: 'blues', ...(options.domain ? { domain: options.domain } : {}) };
  const rect = {
    mark: { type: 'rect' as const },
    encoding: {
      x: {
        field: 'x',
        type: 'nominal' as const,
        title: options.xTitle,
        sort: options.xOrder,
        axis: { labelAngle: options.xOrder.length > 12 ? -90 : -45, labelFontSize: Math.min(11, Math.max(7, cell - 1)), labelLimit: 120 },
      },
      y: {
        field: 'y',
        type: 'nominal' as const,
        title: options.yTitle,
        sort: options.yOrder,
        axis: { labelFontSize: Math.min(11, Math.max(7, Math.max(cell, 12) - 1)), labelLimit: 160 },
      },
      color: { field: 'value', type: 'quantitative' as const, title: options.colorTitle, scale: colorScale },
    },
  };
  const withText = cells.some((c) => c.text !== undefined) && cell >= 20;
  const base = {
    width: { step: cell },
    height: { step: Math.max(cell, 12) },
    data: { values: cells },
  };
  if (!withText) return { ...base, ...rect } as TopLevelSpec;
  return {
    ...base,
    layer: [
      rect,
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          x: { field: 'x', type: 'nominal', sort: options.xOrder },
          y: { field: 'y', type: 'nominal', sort: options.yOrder },
          text: { field: 'text' },
          color: {
            condition: { test: `abs(datum.value) > ${0.6 * maxAbs}`, value: 'white' },
            value: 'black',
          },
        },
      },
    ],
  } as TopLevelSpec;
}

export interface BarRow {
  category: string;
  value: number;
  /** Half-width of an error bar (a standard deviation), drawn when present. */
  error?: number;
}

export function barSpec(rows: BarRow[], options: { valueTitle: string; categoryTitle: string; domain?: [number, number] }): TopLevelSpec {
  const order = rows.map((row) => row.category);
  const withBounds = rows.map((row) => ({
    ...row,
    low: row.error !== undefined ? row.value - row.error : row.value,
    high: row.error !== undefined ? row.value + row.error : row.value,
  }));
  const bar = {
    mark: { type: 'bar' as const, color: '#4c78a8' },
    encoding: {
      y: { field: 'category', type: 'nominal' as const, title: options.categoryTitle, sort: order },
      x: {
        field: 'value',
        type: 'quantitative' as const,
        title: options.valueTitle,
        scale: options.domain ? { domain: options.domain } : {},
      },
    },
  };
  const height = { step: rows.length > 40 ? 10 : 18 };
  if (!rows.some((row) => row.error !== undefined)) {
    return { width: 360, height, data: { values: withBounds }, ...bar };
  }
  return {
    width: 360,
    height,
    data: { values: withBounds },
    layer: [
      bar,
      {
        mark: { type: 'rule', color: '#333' },
        encoding: {
          y: { field: 'category', type: 'nominal', sort: order },
          x: { field: 'low', type: 'quantitative' },
          x2: { field: 'high' },
        },
      },
    ],
  };
}

/**
 * Criterion curves over a parameter (k by default), one line per series, with the chosen value
 * marked by a dashed vertical rule.
 */
export function criterionSpec(
  rows: { k: number; value: number; series: string }[],
  chosen: number | null,
  criterion: string,
  parameter = 'number of clusters k',
): TopLevelSpec {
  const series = [...new Set(rows.map((row) => row.series))];
  const layers: object[] = [
    {
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'k', type: 'quantitative', title: parameter, axis: parameter === 'number of clusters k' ? { tickMinStep: 1 } : {}, scale: { zero: false } },
        y: { field: 'value', type: 'quantitative', title: criterion, scale: { zero: false } },
        color: { field: 'series', type: 'nominal', title: null, sort: series, scale: { scheme: 'tableau10' }, legend: series.length > 1 ? {} : null },
      },
    },
  ];
  if (chosen !== null) {
    layers.push({
      data: { values: [{ k: chosen }] },
      mark: { type: 'rule', color: '#e45756', strokeDash: [4, 3] },
      encoding: { x: { field: 'k', type: 'quantitative' } },
    });
  }
  return { width: 360, height: 200, data: { values: rows }, layer: layers } as TopLevelSpec;
}

/** Mean against dispersion of every gene, selected genes highlighted, both axes on log scale. */
export function geneSelectionSpec(
  genes: { mean: number; dispersion: number; selected: string }[],
  options: { yTitle: string },
): TopLevelSpec {
  return {
    width: 420,
    height: 300,
    data: { values: genes },
    mark: { type: 'circle', size: 8, opacity: 0.7 },
    encoding: {
      x: { field: 'mean', type: 'quantitative', title: 'mean expression', scale: { type: 'symlog' } },
      y: { field: 'dispersion', type: 'quantitative', title: options.yTitle, scale: { type: 'symlog' } },
      color: {
        field: 'selected',
        type: 'nominal',
        title: null,
        scale: { domain: ['highly variable', 'other'], range: ['#e45756', '#bab0ac'] },
      },
      order: { field: 'selected', sort: 'descending' },
    },
  };
}
