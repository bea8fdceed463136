import { basename, resolve } from 'node:path';
import { FILES, type StageName } from '../run/layout.js';
import { closeRun, executeStage, openRun, readManifest, type StageFunction } from '../run/runner.js';
import { InputError } from '../util/errors.js';
import { rootLogger } from '../util/log.js';

export interface StandaloneOptions {
  /** Rerun even when inputs and options are unchanged. */
  force?: boolean;
  /** Seed for a new run directory; an existing run keeps the seed in its manifest. */
  seed?: number;
}

/**
 * Runs one stage on an existing run directory (`genevae normalize reports/x`). The earlier
 * stages must have completed there; the run's seed comes from its manifest.
 */
export async function runStandaloneStage<O>(
  runDirArgument: string,
  stage: StageName,
  options: O,
  fn: StageFunction<O>,
  standalone: StandaloneOptions = {},
): Promise<void> {
  const runDir = resolve(runDirArgument);
  const manifest = readManifest(runDir);
  if (!manifest) {
    throw new InputError(
      `${runDir} is not a run directory (no ${FILES.manifest})`,
      {},
      'run `genevae ingest` first, or `genevae run` for every stage',
    );
  }
  const run = openRun({ runDir, runId: manifest.runId ?? basename(runDir), seed: standalone.seed ?? manifest.seed });
  try {
    await executeStage(run, stage, options, fn, { force: standalone.force });
  } finally {
    closeRun(run);
  }
  rootLogger.info(`${stage} outputs are in ${runDir}`);
}
