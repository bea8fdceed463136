import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const CLI = join(ROOT, 'bin', 'genevae.js');

/**
 * Environment of every child: git is hidden so that the code version is the package version.
 * Stage keys include the code version, and in a shared checkout HEAD moves whenever anyone
 * commits, which would make a rerun seconds later recompute stages that it should reuse.
 */
const CHILD_ENV = { ...process.env, GIT_DIR: join(ROOT, '.no-git-for-e2e-tests') };

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `genevae <args>` to completion in `cwd`. */
export function genevae(args: string[], cwd: string): CliResult {
  const result = spawnSync('node', [CLI, ...args], { cwd, env: CHILD_ENV, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** One line of `--log-format json` output. */
export interface LogEvent {
  time: string;
  level: string;
  scope: string;
  message: string;
  done?: number;
  total?: number;
}

/**
 * A `genevae` child process whose JSON log lines are parsed as they arrive, so that a test can
 * act (send SIGKILL) the moment a stage reports that it started.
 */
export class GenevaeProcess {
  readonly child: ChildProcess;
  readonly events: LogEvent[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  private pending = '';
  private waiters: { predicate: (event: LogEvent) => boolean; resolve: (event: LogEvent) => void }[] = [];

  constructor(args: string[], cwd: string) {
    this.child = spawn('node', [CLI, '--log-format', 'json', ...args], { cwd, env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.receive(chunk));
    this.exited = new Promise((resolvePromise) => {
      this.child.on('close', (status, signal) => {
        for (const waiter of this.waiters) waiter.resolve(undefined as unknown as LogEvent);
        resolvePromise({ status, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Resolves with the first event (already seen or still to come) that matches; rejects when the
   * process exits first, with its log in the message.
   */
  async waitFor(predicate: (event: LogEvent) => boolean, what: string): Promise<LogEvent> {
    const seen = this.events.find(predicate);
    if (seen) return seen;
    const event = await new Promise<LogEvent>((resolvePromise) => this.waiters.push({ predicate, resolve: resolvePromise }));
    if (!event) throw new Error(`genevae exited before ${what}; its log:\n${this.stderr.slice(-4000)}`);
    return event;
  }

  /** Sends SIGKILL and waits for the process to be gone. */
  async kill(): Promise<CliResult> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  private receive(chunk: string): void {
    this.stderr += chunk;
    this.pending += chunk;
    const lines = this.pending.split('\n');
    this.pending = lines.pop()!;
    for (const line of lines) {
      let event: LogEvent;
      try {
        event = JSON.parse(line) as LogEvent;
      } catch {
        continue; // a stray non-JSON line (a library's own warning)
      }
      this.events.push(event);
      const matched = this.waiters.filter((waiter) => waiter.predicate(event));
      this.waiters = this.waiters.filter((waiter) => !matched.includes(waiter));
      for (const waiter of matched) waiter.resolve(event);
    }
  }
}

/** The `<stage>: started` event. */
export function stageStarted(stage: string): (event: LogEvent) => boolean {
  return (event) => event.scope === stage && event.message === 'started';
}

/** The report path that `genevae run` prints on stdout, as its run directory. */
export function runDirFrom(result: CliResult): string {
  const reportPath = result.stdout.trim().split('\n').pop() ?? '';
  if (!reportPath.endsWith('index.html')) throw new Error(`genevae run printed no report path; stderr:\n${result.stderr.slice(-4000)}`);
  return resolve(reportPath, '..');
}
