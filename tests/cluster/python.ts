import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's interpreter, which carries python3-scipy and python3-sklearn (not the pyenv one on PATH). */
export const PYTHON = '/usr/bin/python3';

/** Why the reference cannot run, or null when `/usr/bin/python3` imports every module. */
export function missingPython(modules: string[]): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' });
  return probe.status === 0 ? null : `${PYTHON} cannot import ${modules.join(', ')}: ${probe.stderr.trim().split('\n').pop()}`;
}

/** Runs a Python script with `input` as JSON on stdin and parses its JSON stdout. */
export function runPython<T>(script: string, input: unknown): T {
  const output = execFileSync(PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(output) as T;
}

/** Logs why a reference test is skipped, once per suite. */
export function noteSkip(suite: string, reason: string | null): void {
  if (reason) console.warn(`${suite}: reference checks skipped because ${reason}`);
}
