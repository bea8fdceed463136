import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { TRAIN_DEFAULTS } from '../../pipeline/train.js';
import { denseToTable, frameToTable, writeTable } from '../io/arrow.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import type { BackendChoice } from '../model/backend.js';
import { encodeCohort, type EncodedCohort } from '../model/encode.js';
import { Logger } from '../util/log.js';
import { addIngestOptions, addLikeModelOption, newCohortIngestOptions, withRunLayoutHint } from './ingest.js';
import { parseChoice } from './parse.js';

const PREVIEW = 10;

function preview(genes: string[]): string {
  return genes.slice(0, PREVIEW).join(', ') + (genes.length > PREVIEW ? `, … (${genes.length - PREVIEW} more)` : '');
}

/** Tab-separated sample_id, z0 … z{d-1} and, with the mixture prior, prior_component. */
export function latentTsv(encoded: EncodedCohort): string {
  const { latent, sampleIds, priorComponent } = encoded;
  const header = ['sample_id', ...Array.from({ length: latent.nCols }, (_, k) => `z${k}`)];
  if (priorComponent) header.push('prior_component');
  const lines = [header.join('\t')];
  for (let i = 0; i < latent.nRows; i++) {
    const cells = [sampleIds[i], ...Array.from(latent.data.subarray(i * latent.nCols, (i + 1) * latent.nCols), (v) => String(v))];
    if (priorComponent) cells.push(String(priorComponent[i]));
    lines.push(cells.join('\t'));
  }
  return lines.join('\n') + '\n';
}

function writeEncoded(path: string, encoded: EncodedCohort): void {
  if (extname(path).toLowerCase() === '.arrow') {
    let table = denseToTable(encoded.latent, 'z', { name: 'sample_id', values: encoded.sampleIds });
    if (encoded.priorComponent) table = table.assign(frameToTable({ prior_component: encoded.priorComponent }));
    writeTable(path, table);
  } else {
    writeFileAtomic(path, latentTsv(encoded));
  }
}

/** `genevae encode --model <run-dir> <input>`: embeds a new cohort with a trained model. */
export function registerEncode(program: Command): void {
  addLikeModelOption(addIngestOptions(
    program
      .command('encode')
      .argument('<input>', 'matrix of the new cohort: CSV, TSV (optionally gzipped), Arrow/Feather, a Cell Ranger matrix directory or a GEO MINiML series, read as ingest reads')
      .description("embed a new cohort with a trained model's genes, normalization and weights (genes aligned by id)")
      .requiredOption('--model <run-dir>', 'run directory whose train stage has completed (or its 03-train/model directory)')
      .option(
        '--out <file>',
        'output: .arrow for an Arrow table (sample_id, z), anything else for tab-separated text; gene alignment goes to <file>.genes.json (default: TSV on stdout)',
      )
      .option('--backend <name>', `TensorFlow.js backend: auto, wasm, cpu or tensorflow (default: ${TRAIN_DEFAULTS.backend})`, parseChoice(['auto', 'wasm', 'cpu', 'tensorflow'] as const)),
  )).action(async (input: string, parsed: Record<string, unknown>) => {
    const log = new Logger('encode');
    const runDir = resolve(parsed.model as string);
    const ingestOptions = newCohortIngestOptions(runDir, parsed, resolve(input));
    const encoded = await withRunLayoutHint(runDir, resolve(input), ingestOptions, log, () =>
      encodeCohort(runDir, resolve(input), ingestOptions, { backend: (parsed.backend as BackendChoice | undefined) ?? TRAIN_DEFAULTS.backend, log }),
    );
    const { alignment } = encoded;
    log.info(`${alignment.matched} of the model's ${alignment.modelGenes} genes matched by id; ${encoded.sampleIds.length} samples encoded on ${encoded.backend.name}`);
    if (alignment.missing.length > 0) log.info(`${alignment.missing.length} model genes missing, set to the training mean: ${preview(alignment.missing)}`);
    if (alignment.extra.length > 0) log.info(`${alignment.extra.length} genes of the new cohort not in the model, ignored: ${preview(alignment.extra)}`);
    for (const warning of encoded.warnings) log.warn(warning);
    const out = parsed.out as string | undefined;
    if (out) {
      writeEncoded(resolve(out), encoded);
      writeJsonAtomic(`${resolve(out)}.genes.json`, alignment);
      log.info(`latents written to ${resolve(out)}; gene alignment to ${resolve(out)}.genes.json`);
    } else {
      process.stdout.write(latentTsv(encoded));
    }
  });
}
