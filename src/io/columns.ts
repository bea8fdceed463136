import { closest, distance } from 'fastest-levenshtein';
import picomatch from 'picomatch';

/**
 * Column selection by exact name or glob pattern (`call*`, `Gene *`). A pattern without glob
 * characters matches only the identical name, so names containing `.` or `+` need no escaping.
 */
export class ColumnPatterns {
  private readonly matchers: { pattern: string; test: (name: string) => boolean }[];
  private readonly used = new Set<string>();

  constructor(readonly patterns: readonly string[]) {
    this.matchers = patterns.map((pattern) => ({
      pattern,
      test: picomatch.scan(pattern).isGlob
        ? picomatch(pattern, { dot: true, nobrace: false })
        : (name: string) => name === pattern,
    }));
  }

  matches(name: string): boolean {
    let hit = false;
    for (const matcher of this.matchers) {
      if (matcher.test(name)) {
        this.used.add(matcher.pattern);
        hit = true;
      }
    }
    return hit;
  }

  /** Patterns that matched no column so far, so that a typo is reported instead of silently ignored. */
  unused(): string[] {
    return this.patterns.filter((pattern) => !this.used.has(pattern));
  }
}

/**
 * Returns the available name closest to `wanted` when it is a plausible typo, else null. A
 * typo is the same text in another case, or an edit distance of at most a third of the length.
 * Names of five or more characters allow two edits, so that a swapped letter pair is caught.
 */
export function suggestName(wanted: string, available: readonly string[]): string | null {
  if (available.length === 0) return null;
  const lower = wanted.toLowerCase();
  const sameCase = available.find((name) => name.toLowerCase() === lower);
  if (sameCase) return sameCase;
  const best = closest(lower, available.map((name) => name.toLowerCase()));
  const index = available.findIndex((name) => name.toLowerCase() === best);
  const edits = distance(lower, best);
  if (edits <= Math.max(1, Math.floor(wanted.length / 3)) || (edits <= 2 && wanted.length >= 5)) return available[index];
  return null;
}

/** "'a', 'b', 'c' and 12 more": names for a message, at most `limit` of them. */
export function listNames(names: readonly string[], limit = 10): string {
  const shown = names.slice(0, limit).map((name) => `'${name}'`);
  const rest = names.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}

/** Text for an unknown-column error: what exists and, when there is one, the likely intended name. */
export function describeChoices(wanted: string, available: readonly string[]): string {
  const suggestion = suggestName(wanted, available);
  const did = suggestion ? `did you mean '${suggestion}'? ` : '';
  return `${did}available columns: ${listNames(available, 20)}`;
}

/** Names that occur more than once, with their counts, in first-occurrence order. */
export function duplicates(names: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  const out = new Map<string, number>();
  for (const [name, count] of counts) if (count > 1) out.set(name, count);
  return out;
}

/** "'TP53' (3 times), 'KRAS' (2 times)" for a duplicates map. */
export function describeDuplicates(found: Map<string, number>, limit = 10): string {
  const entries = [...found].slice(0, limit).map(([name, count]) => `'${name}' (${count} times)`);
  const rest = found.size - entries.length;
  return rest > 0 ? `${entries.join(', ')} and ${rest} more` : entries.join(', ');
}

/**
 * Makes names unique as scanpy's `var_names_make_unique` does: the first occurrence keeps its
 * name, later ones get `-1`, `-2`, … in order, skipping any suffixed name already taken.
 * Returns the new names and the renamings made.
 */
export function makeUnique(names: readonly string[]): { names: string[]; renamed: { from: string; to: string }[] } {
  const taken = new Set(names);
  const seen = new Map<string, number>();
  const renamed: { from: string; to: string }[] = [];
  const out = names.slice();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const count = seen.get(name);
    if (count === undefined) {
      seen.set(name, 0);
      continue;
    }
    let suffix = count + 1;
    while (taken.has(`${name}-${suffix}`)) suffix++;
    const unique = `${name}-${suffix}`;
    taken.add(unique);
    seen.set(name, suffix);
    out[i] = unique;
    renamed.push({ from: name, to: unique });
  }
  return { names: out, renamed };
}
