/** Where in an input file a problem sits; every field is optional because not every input has lines or columns. */
export interface InputLocation {
  file?: string;
  line?: number;
  column?: string | number;
  gene?: string;
  sample?: string;
}

/**
 * An error caused by the user's input or options, as opposed to a bug. The CLI prints its
 * message without a stack trace and exits with status 2.
 */
export class InputError extends Error {
  constructor(
    message: string,
    readonly location: InputLocation = {},
    readonly hint?: string,
  ) {
    super(formatInputError(message, location, hint));
    this.name = 'InputError';
  }
}

function formatInputError(message: string, location: InputLocation, hint?: string): string {
  const where: string[] = [];
  if (location.file) where.push(location.file);
  if (location.line !== undefined) where.push(`line ${location.line}`);
  if (location.column !== undefined) {
    where.push(typeof location.column === 'number' ? `column ${location.column}` : `column '${location.column}'`);
  }
  if (location.sample !== undefined) where.push(`sample '${location.sample}'`);
  if (location.gene !== undefined) where.push(`gene '${location.gene}'`);
  const prefix = where.length > 0 ? `${where.join(', ')}: ` : '';
  return `${prefix}${message}${hint ? `; ${hint}` : ''}`;
}

/** Raised when the privacy budget or ledger forbids an action; the CLI exits with status 3. */
export class PrivacyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrivacyError';
  }
}

/** Raised when the user interrupted a long step (SIGINT, SIGTERM) and it stopped cleanly; the CLI exits with status 130. */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}
