import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_DEFAULTS } from '../../pipeline/report.js';
import { SECTION_IDS } from '../../src/report/build.js';
import { runReport } from '../../src/stages/report.js';
import { testContext } from '../helpers/context.js';
import { writeRunFixture } from '../report/fixture.js';

/**
 * Opens reports in Debian's headless Chromium and checks what a reader gets: every section and
 * plot rendered, no console errors, no request leaving the file. Playwright never downloads a
 * browser here; it drives the system chromium package.
 */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`browser tests skipped: ${CHROMIUM} not found; install Debian's chromium package (apt-get install chromium)`);
}

interface OpenedReport {
  context: BrowserContext;
  page: Page;
  consoleErrors: string[];
  /** Requests to anything but the report file itself, all aborted. */
  blocked: string[];
}

async function openReport(htmlPath: string, javaScriptEnabled = true): Promise<OpenedReport> {
  const fileUrl = pathToFileURL(htmlPath).href;
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'genevae-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    javaScriptEnabled,
    viewport: { width: 1400, height: 1000 },
    offline: true,
  });
  const consoleErrors: string[] = [];
  const blocked: string[] = [];
  await context.route('**/*', async (route) => {
    if (route.request().url() === fileUrl) await route.continue();
    else {
      blocked.push(route.request().url());
      await route.abort();
    }
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.goto(fileUrl, { waitUntil: 'load' });
  return { context, page, consoleErrors, blocked };
}

interface PlotCheck {
  name: string;
  width: number;
  height: number;
  marks: number;
}

/** Size and mark count of every inline plot as laid out by the browser. */
async function checkPlots(page: Page): Promise<PlotCheck[]> {
  return page.$$eval('figure.plot', (figures) =>
    figures.map((figure) => {
      const svg = figure.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      const marks = svg ? svg.querySelectorAll('.role-mark > *').length : 0;
      return { name: figure.getAttribute('data-plot') ?? '?', width: box?.width ?? 0, height: box?.height ?? 0, marks };
    }),
  );
}

async function buildFixtureReport(nSamples: number, nClusters: number): Promise<{ runDir: string; html: string }> {
  const runDir = mkdtempSync(join(tmpdir(), `genevae-browser-${nSamples}-`));
  writeRunFixture(runDir, { nSamples, nClusters, nGenes: 200 });
  const ctx = testContext('report', runDir);
  await runReport(ctx, { ...REPORT_DEFAULTS, privacyDir: join(runDir, 'privacy') });
  return { runDir, html: join(ctx.outputDir, 'index.html') };
}

describe.skipIf(!hasChromium).each([
  { nSamples: 50, nClusters: 3 },
  { nSamples: 50_000, nClusters: 12 },
])('report of $nSamples samples in Chromium', ({ nSamples, nClusters }) => {
  let report: { runDir: string; html: string };
  let opened: OpenedReport;

  beforeAll(async () => {
    report = await buildFixtureReport(nSamples, nClusters);
    opened = await openReport(report.html);
  }, 300_000);

  afterAll(async () => {
    await opened?.context.close();
  });

  it('shows every section', async () => {
    for (const id of ['methods', ...SECTION_IDS]) {
      const box = await opened.page.locator(`section[data-section="${id}"]`).boundingBox();
      expect(box?.height ?? 0, id).toBeGreaterThan(50);
    }
  });

  it('draws every plot with marks', async () => {
    const plots = await checkPlots(opened.page);
    expect(plots.length).toBeGreaterThanOrEqual(15);
    for (const plot of plots) {
      expect(plot.width, plot.name).toBeGreaterThan(50);
      expect(plot.height, plot.name).toBeGreaterThan(50);
      expect(plot.marks, plot.name).toBeGreaterThan(0);
    }
  });

  it('draws the cluster and label scatters', async () => {
    const names = (await checkPlots(opened.page)).map((plot) => plot.name);
    for (const name of ['umap-kmeans', 'umap-louvain', 'umap-labels', 'markers-kmeans', 'confusion']) expect(names, name).toContain(name);
  });

  it('sorts a table by a clicked column', async () => {
    // The first cluster-size table: clusters are numbered by decreasing size, so ascending order reverses it.
    const table = opened.page.locator('section#clustering table.sortable:has(th:text-is("size"))').first();
    const sizes = () => table.locator('tbody tr td:nth-child(2)').evaluateAll((cells) => cells.map((cell) => Number((cell as HTMLElement).dataset.sort)));
    const before = await sizes();
    await table.locator('th:text-is("size")').click();
    const after = await sizes();
    expect(before.every(Number.isFinite)).toBe(true);
    expect(after).toEqual([...before].sort((a, b) => a - b));
  });

  it('logs no console errors', () => {
    expect(opened.consoleErrors).toEqual([]);
  });

  it('requests nothing beyond the file', () => {
    expect(opened.blocked).toEqual([]);
  });

  it('saves a screenshot in the run directory', async () => {
    const path = join(report.runDir, 'report-screenshot.png');
    await opened.page.screenshot({ path, fullPage: true });
    expect(statSync(path).size).toBeGreaterThan(10_000);
  });

  it('keeps the file size bounded', () => {
    // Scatters are sampled to maxScatterPoints, so the page does not grow with the cohort.
    expect(statSync(report.html).size).toBeLessThan(6 * 1024 * 1024);
  });
});

describe.skipIf(!hasChromium)('report without JavaScript', () => {
  it('draws the same plots', async () => {
    const report = await buildFixtureReport(50, 3);
    const withScript = await openReport(report.html, true);
    const withoutScript = await openReport(report.html, false);
    try {
      const expected = (await checkPlots(withScript.page)).map((plot) => [plot.name, plot.marks > 0]);
      const actual = (await checkPlots(withoutScript.page)).map((plot) => [plot.name, plot.marks > 0]);
      expect(actual).toEqual(expected);
    } finally {
      await withScript.context.close();
      await withoutScript.context.close();
    }
  }, 120_000);
});
