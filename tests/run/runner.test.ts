import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeRun, executeStage, openRun, type RunHandle } from '../../src/run/runner.js';
import type { StageResult } from '../../src/run/stage.js';

function freshRun(): RunHandle {
  const runDir = join(mkdtempSync(join(tmpdir(), 'genevae-runner-')), 'run');
  return openRun({ runDir, runId: 'run', seed: 0, inputs: [] });
}

async function succeeds(): Promise<StageResult> {
  return { summary: {}, warnings: [] };
}

async function fails(): Promise<StageResult> {
  throw new Error('stage failed on purpose');
}

describe('earlier report of a rerun', () => {
  it('moves aside when a stage reruns and fails', async () => {
    const run = freshRun();
    try {
      await executeStage(run, 'normalize', { a: 1 }, succeeds);
      writeFileSync(join(run.runDir, 'index.html'), '<p>old report</p>');

      await expect(executeStage(run, 'normalize', { a: 2 }, fails)).rejects.toThrow('on purpose');

      expect(existsSync(join(run.runDir, 'index.html'))).toBe(false);
      expect(readFileSync(join(run.runDir, 'index.outdated.html'), 'utf8')).toBe('<p>old report</p>');
    } finally {
      closeRun(run);
    }
  });

  it('stays when every stage is reused', async () => {
    const run = freshRun();
    try {
      await executeStage(run, 'normalize', { a: 1 }, succeeds);
      writeFileSync(join(run.runDir, 'index.html'), '<p>current report</p>');

      const { cached } = await executeStage(run, 'normalize', { a: 1 }, fails);

      expect(cached).toBe(true);
      expect(readFileSync(join(run.runDir, 'index.html'), 'utf8')).toBe('<p>current report</p>');
      expect(existsSync(join(run.runDir, 'index.outdated.html'))).toBe(false);
    } finally {
      closeRun(run);
    }
  });
});
