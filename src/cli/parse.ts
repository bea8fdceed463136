import { InvalidArgumentError } from 'commander';

/** Parsers for commander options that name the option and the expected value in their errors. */

export function parseInteger(min = -Infinity, max = Infinity) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}], got '${raw}'.`);
    }
    return value;
  };
}

export function parseNumber(min = -Infinity, max = Infinity, { exclusiveMin = false } = {}) {
  return (raw: string): number => {
    const value = Number(raw);
    const belowMin = exclusiveMin ? value <= min : value < min;
    if (raw.trim() === '' || !Number.isFinite(value) || belowMin || value > max) {
      const low = exclusiveMin ? `(${min}` : `[${min}`;
      throw new InvalidArgumentError(`expected a number in ${low}, ${max}], got '${raw}'.`);
    }
    return value;
  };
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${raw}'.`);
    }
    return raw as T;
  };
}

/** Splits a comma-separated list and checks every value, naming `kind` in the error. */
function parseList(raw: string, valid: (value: number) => boolean, kind: string): number[] {
  const parts = raw.split(',').map((part) => part.trim());
  const values = parts.map(Number);
  if (parts.some((part) => part === '') || !values.every(valid)) {
    throw new InvalidArgumentError(`expected comma-separated ${kind}, got '${raw}'.`);
  }
  return values;
}

/** Comma-separated positive integers, e.g. `--hidden-dims 256,128`. */
export function parseIntegerList(raw: string): number[] {
  return parseList(raw, (v) => Number.isInteger(v) && v > 0, 'positive integers');
}

/** Comma-separated positive numbers, e.g. `--resolutions 0.5,1,2`. */
export function parseNumberList(raw: string): number[] {
  return parseList(raw, (v) => Number.isFinite(v) && v > 0, 'positive numbers');
}

/** Collects a repeatable option into an array: `--exclude-columns a --exclude-columns b`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Copies the options the user set into a partial options object, leaving unset ones out so
 * that defaults from pipeline/ apply. `names` maps commander's camelCase keys to option fields.
 */
export function pickDefined<T>(parsed: Record<string, unknown>, names: readonly (keyof T & string)[]): Partial<T> {
  const out: Partial<T> = {};
  for (const name of names) {
    if (parsed[name] !== undefined) (out as Record<string, unknown>)[name] = parsed[name];
  }
  return out;
}
