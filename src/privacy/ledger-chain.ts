import { createHash } from 'node:crypto';
import { canonicalJson } from '../run/hash.js';
import type { AccountantName } from './accountant.js';

/**
 * The ledger's line format and hash chain, shared by the writer (ledger.ts) and the auditor.
 *
 * privacy/ledger.jsonl contains one JSON object per line. Each line records its own 1-based line
 * number, the SHA-256 of the line before it (64 zeros for the first) and its own SHA-256, taken
 * over the canonical JSON of every other field. Editing a line breaks its hash; deleting,
 * inserting or reordering lines breaks the line numbers and the chain at the first line moved.
 * Removing lines from the end leaves a valid chain, so the writer also keeps the last line's
 * number and hash in ledger.head.json, and each run records the hash of its own lines.
 */

export const LEDGER_FILE = 'ledger.jsonl';
export const HEAD_FILE = 'ledger.head.json';
export const LOCK_FILE = 'ledger.jsonl.lock';
export const GENESIS_HASH = '0'.repeat(64);
export const LEDGER_FORMAT_VERSION = 1;

/** DP-SGD parameters as recorded: the accountant's inputs plus clipping and sampling. */
export interface RecordedMechanism {
  samplingRate: number;
  noiseMultiplier: number;
  /** Clipping norm C; the noise standard deviation was noiseMultiplier * C. */
  clipNorm: number;
  /** Planned number of noisy updates. */
  steps: number;
  delta: number;
  /** Only 'poisson' is accounted for: each example joins each batch independently with rate q. */
  sampling: 'poisson';
  accountant: AccountantName;
  /**
   * Target of the noise: 'gradients', each step's sum of clipped per-sample gradients
   * (DP-SGD; entries without the field are DP-SGD too), or 'second-moment', one release of the
   * sum of the training rows' outer products with each row scaled to norm clipNorm = 1, which
   * is one full-batch Gaussian step (samplingRate 1, steps 1) to the accountant.
   */
  release?: 'gradients' | 'second-moment';
}

interface LineBase {
  /** Ledger format version. */
  v: number;
  /** 1-based line number in the file. */
  line: number;
  /** Reservation this line belongs to. */
  entryId: string;
  /** ISO 8601 time of writing. */
  time: string;
  prevHash: string;
  hash: string;
}

/** Written before training: the budget is spent from here on, at plannedEpsilon until finalised. */
export interface ReserveLine extends LineBase {
  type: 'reserve';
  runId: string;
  datasetFingerprint: string;
  datasetLabel: string;
  mechanism: RecordedMechanism;
  plannedEpsilon: number;
  codeVersion: string;
  /** 'insecure-test-seed' means batches and noise are reproducible: no privacy guarantee. */
  randomness: 'system' | 'insecure-test-seed';
}

/** Written after training: the steps actually taken and the epsilon they spent. */
export interface FinalizeLine extends LineBase {
  type: 'finalize';
  stepsTaken: number;
  epsilon: number;
}

/** Written when training failed before any noisy update was computed: nothing was spent. */
export interface VoidLine extends LineBase {
  type: 'void';
  reason: string;
}

export type LedgerEntry = ReserveLine | FinalizeLine | VoidLine;

/** Contents of ledger.head.json: the last line written, for detecting lines removed from the end. */
export interface LedgerHead {
  line: number;
  hash: string;
  time: string;
}

/** A verification failure, with the 1-based line it was found at (0 for the file as a whole). */
export interface LedgerProblem {
  line: number;
  message: string;
}

/** SHA-256 of a ledger line: canonical JSON of every field except `hash`. */
export function lineHash(entry: Omit<LedgerEntry, 'hash'> | LedgerEntry): string {
  const { hash: _ignored, ...rest } = entry as LedgerEntry;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** Result of reading and checking the ledger text. */
export interface ChainCheck {
  /** Lines that parsed, in file order (including those with problems). */
  entries: LedgerEntry[];
  /** File line number of each parsed entry. */
  lineNumbers: number[];
  problems: LedgerProblem[];
  /** Hash of the last line, which the next line must point to. */
  lastHash: string;
}

/**
 * Parses the ledger and checks every line: JSON, fields, line numbers, the hash chain, and
 * that finalize and void lines refer to one open reservation each.
 */
export function checkChain(text: string): ChainCheck {
  const problems: LedgerProblem[] = [];
  const entries: LedgerEntry[] = [];
  const lineNumbers: number[] = [];
  if (text === '') return { entries, lineNumbers, problems, lastHash: GENESIS_HASH };

  const rawLines = text.split('\n');
  const endsWithNewline = rawLines[rawLines.length - 1] === '';
  if (endsWithNewline) rawLines.pop();

  let previousHash = GENESIS_HASH;
  const reservations = new Map<string, { closedBy: string | null }>();
  rawLines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const isLast = index === rawLines.length - 1;
    if (raw.trim() === '') {
      problems.push({ line: lineNumber, message: 'empty line' });
      return;
    }
    let entry: LedgerEntry;
    try {
      entry = JSON.parse(raw) as LedgerEntry;
    } catch {
      const message =
        isLast && !endsWithNewline
          ? 'incomplete line: the file ends mid-line, so a write was cut off or the file was truncated'
          : 'not valid JSON: the line was edited';
      problems.push({ line: lineNumber, message });
      return;
    }
    const fieldProblem = checkFields(entry);
    if (fieldProblem) {
      problems.push({ line: lineNumber, message: fieldProblem });
      return;
    }
    if (entry.hash !== lineHash(entry)) {
      problems.push({ line: lineNumber, message: 'contents do not match the line hash: the line was edited' });
    }
    if (entry.line !== lineNumber) {
      problems.push({
        line: lineNumber,
        message: `line records number ${entry.line}: lines before it were deleted, inserted or reordered`,
      });
    }
    if (entry.prevHash !== previousHash) {
      problems.push({
        line: lineNumber,
        message: `chain broken: the line does not follow line ${lineNumber - 1} (a line was deleted, inserted, reordered or edited here)`,
      });
    }
    previousHash = entry.hash;
    entries.push(entry);
    lineNumbers.push(lineNumber);

    if (entry.type === 'reserve') {
      if (reservations.has(entry.entryId)) {
        problems.push({ line: lineNumber, message: `entry ${entry.entryId} is reserved twice` });
      }
      reservations.set(entry.entryId, { closedBy: null });
    } else {
      const reservation = reservations.get(entry.entryId);
      if (!reservation) {
        problems.push({ line: lineNumber, message: `${entry.type} refers to entry ${entry.entryId}, which no earlier line reserves` });
      } else if (reservation.closedBy) {
        problems.push({ line: lineNumber, message: `entry ${entry.entryId} was already closed by a ${reservation.closedBy} line` });
      } else {
        reservation.closedBy = entry.type;
      }
    }
  });
  if (!endsWithNewline && problems.every((p) => p.line !== rawLines.length)) {
    problems.push({ line: rawLines.length, message: 'the last line has no newline: a write was cut off' });
  }
  return { entries, lineNumbers, problems, lastHash: previousHash };
}

/** Checks the head record against the chain: lines removed from the end show up here. */
export function checkHead(check: ChainCheck, head: LedgerHead | null): { problems: LedgerProblem[]; notes: string[] } {
  const problems: LedgerProblem[] = [];
  const notes: string[] = [];
  const count = check.entries.length === 0 ? 0 : check.lineNumbers[check.lineNumbers.length - 1];
  if (!head) {
    if (count > 0) notes.push(`${HEAD_FILE} is missing, so lines removed from the end of the ledger cannot be detected`);
    return { problems, notes };
  }
  if (head.line > count) {
    problems.push({
      line: 0,
      message: `the ledger ends at line ${count} but ${HEAD_FILE} records line ${head.line}: lines were removed from the end`,
    });
    return { problems, notes };
  }
  const index = check.lineNumbers.indexOf(head.line);
  if (head.line > 0 && (index < 0 || check.entries[index].hash !== head.hash)) {
    problems.push({ line: head.line, message: `line hash differs from the one recorded in ${HEAD_FILE}` });
  }
  if (head.line < count) {
    notes.push(`${HEAD_FILE} records line ${head.line} of ${count}: a writer stopped between appending and updating it`);
  }
  return { problems, notes };
}

const HEX_64 = /^[0-9a-f]{64}$/;

/** Names the first missing or mistyped field of a parsed line, or returns null. */
function checkFields(entry: LedgerEntry): string | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'not a JSON object';
  const fields = entry as unknown as Record<string, unknown>;
  const need = (name: string, kind: 'string' | 'number' | 'object'): string | null =>
    typeof fields[name] === kind && fields[name] !== null ? null : `field '${name}' is missing or not a ${kind}`;
  const common = ['line', 'v'].map((n) => need(n, 'number')).concat(['entryId', 'time', 'prevHash', 'hash', 'type'].map((n) => need(n, 'string')));
  const first = common.find((p) => p !== null);
  if (first) return first;
  if (!HEX_64.test(entry.hash) || !HEX_64.test(entry.prevHash)) return 'hash or prevHash is not a SHA-256 hex digest';
  switch (entry.type) {
    case 'reserve': {
      const problem =
        ['runId', 'datasetFingerprint', 'datasetLabel', 'codeVersion', 'randomness'].map((n) => need(n, 'string')).find((p) => p) ??
        need('plannedEpsilon', 'number') ??
        need('mechanism', 'object');
      if (problem) return problem;
      const m = entry.mechanism as unknown as Record<string, unknown>;
      for (const name of ['samplingRate', 'noiseMultiplier', 'clipNorm', 'steps', 'delta']) {
        if (typeof m[name] !== 'number') return `field 'mechanism.${name}' is missing or not a number`;
      }
      if (typeof m.sampling !== 'string' || typeof m.accountant !== 'string') return "field 'mechanism.sampling' or 'mechanism.accountant' is missing";
      return null;
    }
    case 'finalize':
      return need('stepsTaken', 'number') ?? need('epsilon', 'number');
    case 'void':
      return need('reason', 'string');
    default:
      return `unknown line type '${(entry as { type: string }).type}'`;
  }
}
