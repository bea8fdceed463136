import type { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerNormalize } from './normalize.js';

/** Adds every subcommand to the program, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  registerNormalize(program);
  registerDemo(program);
}
