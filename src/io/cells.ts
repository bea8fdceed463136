/**
 * Parsing of matrix cells: numbers, declared missing values, and a diagnosis of everything
 * else so that the error can say what the text looks like and how to fix it.
 */

/** Returned by `parseCell` for a cell that is empty or declared missing. */
export const MISSING = Symbol('missing');
/** Returned by `parseCell` for text that is not a finite number; call `diagnoseCell` for why. */
export const INVALID = Symbol('invalid');

export type CellValue = number | typeof MISSING | typeof INVALID;

/** The set of texts read as missing: the empty string plus the user's --na-values, compared after trimming. */
export class MissingValues {
  private readonly texts: Set<string>;
  /** True when a declared missing value parses as a number (e.g. -999), so it must be checked before parsing. */
  private readonly numericLooking: boolean;

  constructor(naValues: readonly string[]) {
    this.texts = new Set(naValues.map((text) => text.trim()));
    this.numericLooking = [...this.texts].some((text) => text !== '' && Number.isFinite(Number(text)));
  }

  has(text: string): boolean {
    return this.texts.has(text);
  }

  get checkBeforeParsing(): boolean {
    return this.numericLooking;
  }
}

/**
 * Parses one cell as a finite number. Surrounding spaces are allowed; hexadecimal, binary and
 * octal literals (which JavaScript's Number accepts) and infinities are not.
 */
export function parseCell(text: string, missing: MissingValues): CellValue {
  // Most cells of a count matrix are "0": skip the general path for them.
  if (text === '0') return 0;
  if (missing.checkBeforeParsing && missing.has(text.trim())) return MISSING;
  const value = Number(text);
  if (Number.isFinite(value)) {
    if (isBlank(text)) return MISSING;
    if (hasRadixPrefix(text)) return INVALID;
    return value;
  }
  const trimmed = text.trim();
  if (trimmed === '' || missing.has(trimmed)) return MISSING;
  return INVALID;
}

function isBlank(text: string): boolean {
  return text.length === 0 || text.trim().length === 0;
}

/** True for "0x1f", "-0b1", "0o7": literals Number() reads but no expression matrix means. */
function hasRadixPrefix(text: string): boolean {
  const trimmed = text.trim();
  const start = trimmed[0] === '-' || trimmed[0] === '+' ? 1 : 0;
  if (trimmed[start] !== '0' || trimmed.length < start + 2) return false;
  const letter = trimmed[start + 1].toLowerCase();
  return letter === 'x' || letter === 'b' || letter === 'o';
}

/** Why a cell is not a number, and what the user can do about it. */
export interface CellDiagnosis {
  /** What the text is, e.g. "'1,5' uses a decimal comma". */
  problem: string;
  /** How to fix it. */
  hint: string;
}

const DECIMAL_COMMA = /^[+-]?\d+,\d+$/;
const THOUSANDS = /^[+-]?\d{1,3}([,' ]\d{3})+(\.\d+)?$|^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$/;
const INFINITY = /^[+-]?(inf|infinity|∞)$/i;

/**
 * Explains an INVALID cell. `column` is the column name, used to recognise the detection-call
 * columns (P/A/M) that Affymetrix exports put after every sample.
 */
export function diagnoseCell(text: string, column: string, delimiterName: string): CellDiagnosis {
  const trimmed = text.trim();
  const quoted = `'${trimmed}'`;
  if (hasRadixPrefix(trimmed)) {
    return {
      problem: `${quoted} is a hexadecimal, binary or octal literal, not a decimal number`,
      hint: 'write the values as decimal numbers',
    };
  }
  if (INFINITY.test(trimmed) || !Number.isNaN(Number(trimmed))) {
    return {
      problem: `${quoted} is not a finite number`,
      hint: 'replace infinite values before ingest, or declare the text missing with --na-values',
    };
  }
  if (THOUSANDS.test(trimmed) && DECIMAL_COMMA.test(trimmed)) {
    return {
      problem: `${quoted} has a comma that is either a thousands separator or a decimal comma`,
      hint: 'write plain decimal numbers (1234 or 1.234, with a decimal point and no separators) before ingest',
    };
  }
  if (THOUSANDS.test(trimmed)) {
    return {
      problem: `${quoted} looks like a number with thousands separators`,
      hint: 'remove the separators (write 1234.5, not 1,234.5) before ingest',
    };
  }
  if (DECIMAL_COMMA.test(trimmed)) {
    return {
      problem: `${quoted} uses a decimal comma`,
      hint: `write decimal points (1.5, not 1,5), for example by re-exporting with a '.' decimal separator; the file is read as ${delimiterName}`,
    };
  }
  if (/^call(\.\d+)?$/i.test(column.trim()) || /^[PAM]$/.test(trimmed)) {
    return {
      problem: `${quoted} is not a number; column '${column}' looks like a detection-call column (P/A/M)`,
      hint: "leave such columns out with --exclude-columns 'call*'",
    };
  }
  return {
    problem: `${quoted} is not a number`,
    hint:
      `if '${column}' is an annotation column rather than expression values, leave it out with ` +
      `--exclude-columns '${column}' (or name it with --id-column or --label-column); ` +
      `if ${quoted} means a missing value, declare it with --na-values '${trimmed}'`,
  };
}
