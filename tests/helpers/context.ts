import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STAGE_DIRS, type StageName } from '../../src/run/layout.js';
import type { StageContext } from '../../src/run/stage.js';
import { Logger } from '../../src/util/log.js';

/**
 * A stage context over a fresh temporary run directory, for tests that call one stage
 * directly. Stage outputs go to <runDir>/<NN-stage> without the runner's rename.
 */
export function testContext(stage: StageName, runDir?: string, seed = 0): StageContext {
  const dir = runDir ?? mkdtempSync(join(tmpdir(), 'genevae-test-run-'));
  const outputDir = join(dir, STAGE_DIRS[stage]);
  mkdirSync(outputDir, { recursive: true });
  return {
    runDir: dir,
    outputDir,
    inputPath: (from: StageName, file: string) => join(dir, STAGE_DIRS[from], file),
    runId: 'test-run',
    seed,
    log: new Logger(stage),
  };
}
