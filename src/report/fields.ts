/**
 * Defensive reads of JSON written by other stages. A summary.json may come from an older
 * version of a stage or lack a field, so every read checks the type and returns null when
 * the value is missing or of another kind. The report then shows "not available".
 */
export class Fields<T = Record<string, unknown>> {
  readonly value: Record<string, unknown>;

  constructor(value: unknown) {
    this.value = isRecord(value) ? value : {};
  }

  /** True when the wrapped value has no fields at all. */
  get isEmpty(): boolean {
    return Object.keys(this.value).length === 0;
  }

  has(key: keyof T & string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  raw(key: keyof T & string): unknown {
    return this.value[key];
  }

  number(key: keyof T & string): number | null {
    const value = this.value[key];
    return typeof value === 'number' ? value : null;
  }

  string(key: keyof T & string): string | null {
    const value = this.value[key];
    return typeof value === 'string' ? value : null;
  }

  boolean(key: keyof T & string): boolean | null {
    const value = this.value[key];
    return typeof value === 'boolean' ? value : null;
  }

  array(key: keyof T & string): unknown[] {
    const value = this.value[key];
    return Array.isArray(value) ? value : [];
  }

  numbers(key: keyof T & string): number[] {
    return this.array(key).filter((v): v is number => typeof v === 'number');
  }

  strings(key: keyof T & string): string[] {
    return this.array(key).filter((v): v is string => typeof v === 'string');
  }

  /** Items of an array of objects, each wrapped; non-objects are dropped. */
  records<U = Record<string, unknown>>(key: keyof T & string): Fields<U>[] {
    return this.array(key)
      .filter(isRecord)
      .map((item) => new Fields<U>(item));
  }

  object<U = Record<string, unknown>>(key: keyof T & string): Fields<U> {
    return new Fields<U>(this.value[key]);
  }

  /** Returns the first of several keys that contains a number, for fields whose name varies between versions. */
  firstNumber(...keys: (keyof T & string)[]): number | null {
    for (const key of keys) {
      const value = this.number(key);
      if (value !== null) return value;
    }
    return null;
  }

  firstString(...keys: (keyof T & string)[]): string | null {
    for (const key of keys) {
      const value = this.string(key);
      if (value !== null) return value;
    }
    return null;
  }

  /** Scalar fields (numbers, strings, booleans, arrays of scalars) not in `shown`, for an "other facts" table. */
  remainingScalars(shown: Iterable<string>): [string, unknown][] {
    const skip = new Set(shown);
    return Object.entries(this.value).filter(([key, value]) => {
      if (skip.has(key) || value === null || value === undefined) return false;
      if (Array.isArray(value)) return value.length <= 20 && value.every((v) => typeof v !== 'object' || v === null);
      return typeof value !== 'object';
    });
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
