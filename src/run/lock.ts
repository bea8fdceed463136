import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { processAlive } from '../util/process.js';
import { basename, dirname, join } from 'node:path';
import { temporaryPathFor } from '../io/atomic.js';

export { processAlive };

/**
 * An exclusive lock file that contains its holder's pid, host and start time. A lock left by a
 * process that died (SIGKILL) on this host is taken over, and so is an unreadable one. A live
 * holder makes `acquire` throw with its pid.
 */
export class FileLock {
  private held = false;

  constructor(readonly path: string) {}

  tryAcquire(): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.create()) {
        this.held = true;
        this.removeStaleTemporaries();
        return true;
      }
      // create() never leaves a lock file without its record, so an unreadable one is damaged, not being written.
      const holder = this.holder();
      if (holder === null || (holder.host === hostname() && !processAlive(holder.pid))) {
        this.removeStale(holder);
        continue;
      }
      return false;
    }
    return false;
  }

  /**
   * Creates the lock file with its holder record in one step, by hard-linking a finished temporary
   * file to the lock path, so that a process killed at any moment never leaves an empty lock file.
   * Returns false when the lock file exists.
   */
  private create(): boolean {
    const record = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
    const temporary = temporaryPathFor(this.path);
    writeFileSync(temporary, record, { flag: 'wx' });
    try {
      linkSync(temporary, this.path);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
      // NOTE: without hard links (FAT) the lock is created, then written, so a kill in between leaves it empty and a reader in between may take it over.
      return this.createWithoutLink(record);
    } finally {
      rmSync(temporary, { force: true });
    }
  }

  /** Removes the record files that processes killed inside create() left beside the lock file. */
  private removeStaleTemporaries(): void {
    const dir = dirname(this.path);
    const prefix = `.${basename(this.path)}.tmp-`;
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(prefix)) continue;
      const pid = Number.parseInt(name.slice(prefix.length), 10);
      if (pid !== process.pid && !processAlive(pid)) rmSync(join(dir, name), { force: true });
    }
  }

  private createWithoutLink(record: string): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      writeSync(fd, record);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  acquire(what: string): void {
    if (!this.tryAcquire()) {
      const holder = this.holder();
      throw new Error(
        `${what} is locked by process ${holder?.pid ?? 'unknown'} on ${holder?.host ?? 'unknown host'} ` +
          `since ${holder?.since ?? 'unknown time'} (${this.path}); wait for it to finish, ` +
          `or remove the lock file if that process no longer exists.`,
      );
    }
  }

  /** Waits up to `timeoutMs`, polling, for the lock. */
  async acquireWithin(what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.tryAcquire()) {
      if (Date.now() > deadline) this.acquire(what);
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
    }
  }

  release(): void {
    if (this.held) {
      rmSync(this.path, { force: true });
      this.held = false;
    }
  }

  private holder(): LockHolder | null {
    return readHolder(this.path);
  }

  /**
   * Moves a dead holder's lock aside. Two processes may both see the same stale lock; the
   * rename lets only one of them move it, and a process that finds it moved a different
   * (live) lock puts it back instead of deleting it.
   */
  private removeStale(stale: LockHolder | null): void {
    const aside = `${this.path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(this.path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const moved = readHolder(aside);
    if (moved && (moved.pid !== stale?.pid || moved.since !== stale?.since)) {
      try {
        linkSync(aside, this.path);
      } catch (error) {
        // NOTE: a third process locked in the gap; the live holder we moved no longer has a lock file.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    rmSync(aside, { force: true });
  }
}

interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

function readHolder(path: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}
