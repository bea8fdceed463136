import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toDense } from '../../src/matrix/csr.js';
import { DATA_DIR } from '../e2e/cohorts.js';
import { ingest, inputErrorOf } from '../fixtures/ingest.js';
import { fixtureDir, writeFixture } from '../fixtures/matrices.js';

interface SampleSpec {
  id: string;
  title: string;
  source: string;
  characteristics: Record<string, string>;
  platform?: string;
  /** Probe id and value per line of the data table; a string value is written as is. */
  rows: [string, number | string][];
}

function sampleXml(sample: SampleSpec): string {
  const tags = Object.entries(sample.characteristics)
    .map(([tag, value]) => `      <Characteristics tag="${tag}">\n${value}\n      </Characteristics>`)
    .join('\n');
  return `  <Sample iid="${sample.id}">
    <Title>${sample.title}</Title>
    <Accession database="GEO">${sample.id}</Accession>
    <Channel-Count>1</Channel-Count>
    <Channel position="1">
      <Source>${sample.source}</Source>
${tags}
    </Channel>
    <Platform-Ref ref="${sample.platform ?? 'GPL1'}" />
    <Data-Table>
      <Column position="1"><Name>ID_REF</Name></Column>
      <Column position="2"><Name>VALUE</Name><Description>log2 RMA</Description></Column>
    <External-Data rows="${sample.rows.length}">
${sample.id}-tbl-1.txt
    </External-Data>
    </Data-Table>
  </Sample>`;
}

/** Writes a MINiML family directory: the XML and one header-less table per sample (gzipped when asked). */
function series(samples: SampleSpec[], gzip = true): string {
  const dir = fixtureDir();
  const xml = `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<MINiML xmlns="http://www.ncbi.nlm.nih.gov/geo/info/MINiML" version="0.5.0">
  <Series iid="GSE1"><Title>test series</Title></Series>
${samples.map(sampleXml).join('\n')}
</MINiML>
`;
  writeFixture(dir, 'GSE1_family.xml', xml);
  for (const sample of samples) {
    const text = sample.rows.map(([id, value]) => `${id}\t${value}`).join('\n') + '\n';
    writeFixture(dir, `${sample.id}-tbl-1.txt${gzip ? '.gz' : ''}`, text, gzip);
  }
  return dir;
}

const probes = ['7896746', '7896756', '0012'];
function samples(): SampleSpec[] {
  return [
    { id: 'GSM1', title: 'ctrl_1', source: 'Healthy control', characteristics: { age: '12', Sex: 'male' }, rows: probes.map((p, j) => [p, 5 + j]) },
    { id: 'GSM2', title: 'SA_1', source: 'Severe asthma', characteristics: { age: '9.66', Sex: 'female' }, rows: probes.map((p, j) => [p, 7.25 - j]) },
    { id: 'GSM3', title: 'MA_1', source: 'Mild asthma', characteristics: { age: '4', Sex: 'male' }, rows: probes.map((p, j) => [p, 6 + j / 2]) },
  ];
}

describe('GEO MINiML series', () => {
  it('joins sample tables on ID_REF', async () => {
    const result = await ingest({ inputs: [series(samples())], labelColumn: 'source' });
    expect(result.obs.sample_id).toEqual(['GSM1', 'GSM2', 'GSM3']);
    expect(result.vars.gene_id).toEqual(probes);
    expect(Array.from(toDense(result.X))).toEqual([5, 6, 7, 7.25, 6.25, 5.25, 6, 6.5, 7]);
    expect(result.obs.label).toEqual(['Healthy control', 'Severe asthma', 'Mild asthma']);
    expect(result.obs.title).toEqual(['ctrl_1', 'SA_1', 'MA_1']);
    expect(Array.from(result.obs.age as Float64Array)).toEqual([12, 9.66, 4]);
    expect(result.obs.Sex).toEqual(['male', 'female', 'male']);
    expect(result.summary.files[0].format).toBe('geo-miniml');
    expect(result.summary.labels?.source.column).toBe('source');
  });

  it('aligns plain tables by probe id', async () => {
    const specs = samples();
    specs[2].rows = [...specs[2].rows].reverse();
    const dir = series(specs, false);
    const result = await ingest({ inputs: [join(dir, 'GSE1_family.xml')] });
    expect(Array.from(toDense(result.X))).toEqual([5, 6, 7, 7.25, 6.25, 5.25, 6, 6.5, 7]);
    expect(result.summary.files[0].notes.join(' ')).toContain("GSM3's table lists the probes in another order");
  });

  it('lets --metadata replace the XML annotations', async () => {
    const dir = series(samples());
    const metadata = writeFixture(dir, 'labels.csv', 'gsm,group\nGSM1,a\nGSM2,b\nGSM3,a\n');
    const result = await ingest({ inputs: [dir], metadata, labelColumn: 'group' });
    expect(result.obs.label).toEqual(['a', 'b', 'a']);
    expect(result.obs.title).toBeUndefined();
  });

  it('names the sample, file, line and probe of a bad value', async () => {
    const specs = samples();
    specs[1].rows[2] = ['0012', 'high'];
    const error = await inputErrorOf(ingest({ inputs: [series(specs)] }));
    expect(error).toMatch(/GSM2-tbl-1\.txt\.gz, line 3, sample 'GSM2', gene '0012'/);
    expect(error).toMatch(/'high'/);
    expect(error).toMatch(/--na-values 'high' --missing zero/);
  });

  it('stops on a null value unless --missing zero', async () => {
    const specs = samples();
    specs[0].rows[1] = ['7896756', 'null'];
    expect(await inputErrorOf(ingest({ inputs: [series(specs)] }))).toMatch(/line 2, sample 'GSM1', gene '7896756'.*VALUE of probe '7896756' is missing.*--missing zero/);
    const result = await ingest({ inputs: [series(specs)], missing: 'zero' });
    expect(result.summary.values.missingCells).toBe(1);
  });

  it('stops on inconsistent series', async () => {
    const dir = series(samples());
    const xml = join(dir, 'GSE1_family.xml');
    const missingTable = series(samples());
    writeFixture(missingTable, 'GSM2-tbl-1.txt.gz', '');
    const specs = samples();
    specs[2].rows = specs[2].rows.slice(0, 2);
    expect(await inputErrorOf(ingest({ inputs: [series(specs)] }))).toMatch(/GSM3-tbl-1\.txt\.gz, sample 'GSM3': the sample's probe list differs from the first sample's: it lacks 1 probes of GSM1's table \('0012'\)/);
    const mixed = samples();
    mixed[1].platform = 'GPL2';
    expect(await inputErrorOf(ingest({ inputs: [series(mixed)] }))).toMatch(/mixes platforms \(GPL1: 2 samples, GPL2: 1 samples\)/);
    expect(await inputErrorOf(ingest({ inputs: [xml], labelColumn: 'disease' }))).toMatch(/label column 'disease' is not in the metadata/);
    const empty = await inputErrorOf(ingest({ inputs: [missingTable] }));
    expect(empty).toMatch(/GSM2/);
  });

  it('stops on a table the XML names but the directory lacks', async () => {
    const dir = fixtureDir();
    writeFixture(dir, 'GSE1_family.xml', `<MINiML>\n${sampleXml(samples()[0])}\n</MINiML>\n`);
    expect(await inputErrorOf(ingest({ inputs: [dir] }))).toMatch(/GSE1_family\.xml, line 2, sample 'GSM1': 1 of 1 sample data tables are not beside the XML \('GSM1-tbl-1\.txt'\).*unpack/);
  });

  it('stops on a truncated XML', async () => {
    const dir = series(samples());
    const xml = join(dir, 'GSE1_family.xml');
    writeFixture(dir, 'GSE1_family.xml', readFileSync(xml, 'utf8').slice(0, 900));
    expect(await inputErrorOf(ingest({ inputs: [dir] }))).toMatch(/ends before its closing <\/MINiML> tag, so the file is truncated/);
  });

  it('stops on one sample table given alone', async () => {
    const dir = series(samples());
    expect(await inputErrorOf(ingest({ inputs: [join(dir, 'GSM1-tbl-1.txt.gz')] }))).toMatch(/one sample's data table of a GEO MINiML series.*give the directory .*, which contains the series' XML/);
  });

  it('stops on XML that is not MINiML', async () => {
    const dir = fixtureDir();
    writeFixture(dir, 'notes.xml', '<notes><note>hi</note></notes>\n');
    expect(await inputErrorOf(ingest({ inputs: [dir] }))).toMatch(/not a GEO MINiML document/);
  });

  const asthma = join(DATA_DIR, 'gse27011_asthma_geo_miniml', 'GSE27011_family-xml');
  it.skipIf(!existsSync(asthma))('reads GSE27011 as 54 samples × 28,231 probes with its three groups', async () => {
    const result = await ingest({ inputs: [asthma], labelColumn: 'source' });
    expect(result.summary.nSamples).toBe(54);
    expect(result.summary.nGenes).toBe(28231);
    expect(result.summary.labels?.counts).toEqual({ 'Mild asthma': 19, 'Healthy control': 18, 'Severe asthma': 17 });
    expect((result.vars.gene_id as string[])[0]).toBe('7896746');
    expect(result.summary.values.min).toBeGreaterThan(1.6);
    expect(result.summary.values.max).toBeLessThan(14.2);
  });
});
