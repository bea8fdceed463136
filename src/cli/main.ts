import { Command, CommanderError } from 'commander';
import { InputError, InterruptedError, PrivacyError } from '../util/errors.js';
import { configureLogging, rootLogger } from '../util/log.js';
import { codeVersion } from '../run/versions.js';
import { registerCommands } from './commands.js';

/** Exit statuses: 1 for an unexpected failure, 2 for bad input or options, 3 for a privacy refusal, 130 when interrupted. */
export const EXIT = { failure: 1, input: 2, privacy: 3, interrupted: 130 } as const;

function buildProgram(): Command {
  const program = new Command('genevae')
    .description('Privacy-protected latent pictures of gene-expression cohorts')
    .version(codeVersion(), '-V, --version')
    .option('-q, --quiet', 'print warnings and errors only')
    .option('-v, --verbose', 'print debug messages and stack traces')
    .option('--log-format <format>', "log lines as 'text' or 'json' (one object per line)", 'text')
    .showHelpAfterError('(run with --help for usage)')
    .hook('preAction', (command) => {
      const globals = command.optsWithGlobals() as { quiet?: boolean; verbose?: boolean; logFormat?: string };
      if (globals.logFormat !== 'text' && globals.logFormat !== 'json') {
        throw new InputError(`--log-format must be 'text' or 'json', got '${globals.logFormat}'`);
      }
      configureLogging({
        level: globals.quiet ? 'warn' : globals.verbose ? 'debug' : 'info',
        format: globals.logFormat,
      });
    });
  // Set before the subcommands exist, which copy the setting when they are created, so a bad
  // option anywhere exits through main() with status 2 instead of commander's process.exit(1).
  program.exitOverride();
  registerCommands(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (help, version or a usage error).
      return error.exitCode === 0 ? 0 : EXIT.input;
    }
    const verbose = process.argv.includes('-v') || process.argv.includes('--verbose');
    if (error instanceof InputError) {
      rootLogger.error(error.message);
      return EXIT.input;
    }
    if (error instanceof InterruptedError) {
      rootLogger.error(error.message);
      return EXIT.interrupted;
    }
    if (error instanceof PrivacyError) {
      rootLogger.error(error.message);
      return EXIT.privacy;
    }
    const failure = error as Error;
    rootLogger.error(verbose ? (failure.stack ?? failure.message) : `${failure.message} (run with --verbose for the stack trace)`);
    return EXIT.failure;
  }
}

process.exitCode = await main(process.argv);
