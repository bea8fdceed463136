import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileLock } from '../../src/run/lock.js';

function deadPid(): number {
  // A child that has exited leaves a pid that no process holds (until reuse, which is rare in a test).
  return spawnSync('node', ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout as unknown as number;
}

describe('FileLock', () => {
  it('excludes a second holder', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lock-')), 'a.lock');
    const first = new FileLock(path);
    const second = new FileLock(path);
    expect(first.tryAcquire()).toBe(true);
    expect(second.tryAcquire()).toBe(false);
    expect(() => second.acquire('the test resource')).toThrow(/locked by process/);
    first.release();
    expect(second.tryAcquire()).toBe(true);
  });

  it('takes over a lock left by a dead process', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lock-')), 'b.lock');
    writeFileSync(path, JSON.stringify({ pid: Number(deadPid()), host: hostname(), since: '2026-01-01T00:00:00Z' }));
    const lock = new FileLock(path);
    expect(lock.tryAcquire()).toBe(true);
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('keeps a lock held by a live process', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lock-')), 'c.lock');
    writeFileSync(path, JSON.stringify({ pid: process.ppid, host: hostname(), since: '2026-01-01T00:00:00Z' }));
    expect(new FileLock(path).tryAcquire()).toBe(false);
    expect(existsSync(path)).toBe(true);
  });
});
