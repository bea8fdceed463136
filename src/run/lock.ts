import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** True when a process with this pid exists on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock file created with O_EXCL. A lock left by a process that died (SIGKILL)
 * on this host is taken over; a live holder makes `acquire` throw with its pid.
 */
export class FileLock {
  private held = false;

  constructor(readonly path: string) {}

  tryAcquire(): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.path, 'wx');
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
        closeSync(fd);
        this.held = true;
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = this.holder();
        if (holder && holder.host === hostname() && !processAlive(holder.pid)) {
          this.removeStale(holder);
          continue;
        }
        return false;
      }
    }
    return false;
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
  private removeStale(stale: LockHolder): void {
    const aside = `${this.path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(this.path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const moved = readHolder(aside);
    if (moved && (moved.pid !== stale.pid || moved.since !== stale.since)) {
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
