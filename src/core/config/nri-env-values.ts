import type { ConfigIssue } from '../errors.js';
import { parseGoBool } from './nri-bool.js';

/**
 * Reads the New Relic integration variables strictly: an empty value is unset (as the SDK
 * treats it), a malformed one becomes a ConfigIssue named after the variable, so every problem
 * is reported together instead of being ignored as nri-postgresql would.
 */
export class NriEnvValues {
  readonly #env: NodeJS.ProcessEnv;
  readonly #issues: ConfigIssue[];

  constructor(env: NodeJS.ProcessEnv, issues: ConfigIssue[]) {
    this.#env = env;
    this.#issues = issues;
  }

  /** Adds a problem with the variable `name`. */
  report(name: string, message: string): void {
    this.#issues.push({ path: name, message });
  }

  /** Whether the variable has a non-empty value. */
  isSet(name: string): boolean {
    return this.text(name) !== undefined;
  }

  /** The value as written; undefined when unset or empty. */
  text(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  /** A Go ParseBool boolean (1, t, true, TRUE, 0, f, false, …). */
  bool(name: string): boolean | undefined {
    const raw = this.text(name);
    if (raw === undefined) return undefined;
    const value = parseGoBool(raw);
    if (value === undefined) {
      this.report(name, `expected true or false (or 1, 0, t, f), got ${JSON.stringify(raw)}`);
    }
    return value;
  }

  /** A whole number in decimal, optionally within [min, max]. */
  int(name: string, range: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.text(name);
    if (raw === undefined) return undefined;
    const trimmed = raw.trim();
    if (!/^[+-]?\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
      this.report(name, `expected a whole number, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    const value = Number(trimmed);
    const { min, max } = range;
    if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
      const bounds =
        min !== undefined && max !== undefined
          ? `between ${min} and ${max}`
          : min !== undefined
            ? `at least ${min}`
            : `at most ${String(max)}`;
      this.report(name, `must be ${bounds}, got ${value}`);
      return undefined;
    }
    return value;
  }

  /** Parsed JSON; undefined (and reported) when it does not parse. */
  json(name: string, expected: string): unknown {
    const raw = this.text(name);
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.report(name, `expected ${expected}; not valid JSON (${reason})`);
      return undefined;
    }
  }

  /** A JSON array of non-empty strings, e.g. `["postgres","app"]`. */
  nameList(name: string): string[] | undefined {
    const expected = 'a JSON array of names, e.g. ["postgres"]';
    const value = this.json(name, expected);
    if (value === undefined) return undefined;
    if (!isNameList(value)) {
      this.report(name, `expected ${expected}`);
      return undefined;
    }
    return value;
  }
}

/** Whether a parsed JSON value is an array of non-empty strings. */
export function isNameList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '');
}
