import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** Bumped when the file's shape changes; an unknown version reads as an empty state. */
const FILE_VERSION = 1;

/** The previous sample of one metric: its value and when it was seen (epoch ms). */
interface StoredSample {
  readonly value: number;
  readonly atMs: number;
}

/** The JSON on disk. Ours, not the SDK's: nothing else reads it. */
interface RateStateFile {
  readonly version: typeof FILE_VERSION;
  /** key → [value, epoch ms]; arrays keep a file of thousands of tables small. */
  readonly entries: Record<string, [number, number]>;
}

/**
 * The previous value of every `rate`/`delta` metric, as the infra SDK's file store keeps it
 * between runs of an integration. nri-postgresql is a fresh process every interval, so the
 * SDK persists this to disk; we are long-lived but persist it too, so a restart does not
 * reset every rate to 0 (first sight) nor lose one interval of data.
 */
export class RateState {
  private readonly samples = new Map<string, StoredSample>();

  /** Empty state; samples older than `ttlMs` count as never seen. */
  constructor(private readonly ttlMs: number) {}

  /**
   * Reads a state file; a missing, unreadable or corrupt file gives an empty state and a
   * reason (never throws). Entries older than ttl are dropped.
   */
  static load(
    file: string,
    ttlMs: number,
    nowMs: number,
  ): { state: RateState; problem?: string; missing?: true } {
    const state = new RateState(ttlMs);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const problem =
        code === 'ENOENT'
          ? `rate state file ${file} does not exist yet; rates start from 0`
          : `cannot read rate state file ${file}: ${(err as Error).message}`;
      return code === 'ENOENT' ? { state, problem, missing: true } : { state, problem };
    }
    const entries = parseStateFile(text);
    if (entries === undefined) {
      return { state, problem: `rate state file ${file} is corrupt; rates start from 0` };
    }
    for (const [key, [value, atMs]] of Object.entries(entries)) {
      if (nowMs - atMs <= ttlMs) state.samples.set(key, { value, atMs });
    }
    return { state };
  }

  /**
   * nri `rate`: (value - previous) / elapsed seconds. First sight → 0. Same second (the SDK
   * compares whole seconds) → undefined (the field is dropped) and the stored sample is not
   * replaced. Negative results are returned as-is. Records the new sample otherwise.
   */
  rate(key: string, value: number, nowMs: number): number | undefined {
    return this.difference(key, value, nowMs, true);
  }

  /** nri `delta`: value - previous, first sight 0, same rules as `rate`. */
  delta(key: string, value: number, nowMs: number): number | undefined {
    return this.difference(key, value, nowMs, false);
  }

  /**
   * nri `prate`: `rate` for a counter that only grows. A negative change (the counter was
   * reset) drops the field, as the SDK's ErrNegativeDiff does; the new value is still recorded,
   * so the next sample measures from after the reset.
   */
  prate(key: string, value: number, nowMs: number): number | undefined {
    return nonNegative(this.difference(key, value, nowMs, true));
  }

  /** nri `pdelta`: `delta` whose negative results are dropped, as `prate`. */
  pdelta(key: string, value: number, nowMs: number): number | undefined {
    return nonNegative(this.difference(key, value, nowMs, false));
  }

  /**
   * Writes atomically (temp file in the same directory + rename, mode 0600, directory created
   * 0700 if missing), dropping entries older than ttl. Throws on I/O failure (the caller logs).
   */
  save(file: string, nowMs: number): void {
    const entries: Record<string, [number, number]> = {};
    for (const [key, sample] of this.samples) {
      if (nowMs - sample.atMs <= this.ttlMs) entries[key] = [sample.value, sample.atMs];
      else this.samples.delete(key);
    }
    const body: RateStateFile = { version: FILE_VERSION, entries };
    const dir = path.dirname(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Same directory, so the rename is atomic: a crash leaves the old file or the new one.
    const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      writeFileSync(temp, JSON.stringify(body), { mode: 0o600 });
      renameSync(temp, file);
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // Never created, or already renamed: nothing to clean up.
      }
      throw err;
    }
  }

  /** Number of entries (for tests/self-metrics). */
  get size(): number {
    return this.samples.size;
  }

  private difference(
    key: string,
    value: number,
    nowMs: number,
    perSecond: boolean,
  ): number | undefined {
    if (!Number.isFinite(value)) return undefined;
    const previous = this.samples.get(key);
    if (previous === undefined || nowMs - previous.atMs > this.ttlMs) {
      this.samples.set(key, { value, atMs: nowMs });
      return 0;
    }
    // The SDK stores Unix seconds, so two samples within one wall-clock second are too close.
    const elapsedSeconds = Math.floor(nowMs / 1000) - Math.floor(previous.atMs / 1000);
    if (elapsedSeconds === 0) return undefined;
    this.samples.set(key, { value, atMs: nowMs });
    // A clock that went back gives no meaningful interval; the new sample is the new base.
    if (elapsedSeconds < 0) return undefined;
    const change = value - previous.value;
    return perSecond ? change / elapsedSeconds : change;
  }
}

/**
 * The SDK's store key: namespace attributes sorted by key (then value) as `k==v`, joined and
 * followed by the metric name with `::`.
 */
export function rateKey(namespace: Readonly<Record<string, string>>, metric: string): string {
  const parts = Object.entries(namespace)
    .sort(([ka, va], [kb, vb]) => (ka === kb ? compare(va, vb) : compare(ka, kb)))
    .map(([k, v]) => `${k}==${v}`);
  parts.push(metric);
  return parts.join('::');
}

/** A difference, or undefined when it is negative. */
function nonNegative(change: number | undefined): number | undefined {
  return change !== undefined && change < 0 ? undefined : change;
}

/** Byte-order comparison, as Go's sort on strings (no locale). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The entries of a well-formed state file, or undefined. */
function parseStateFile(text: string): Record<string, [number, number]> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { version, entries } = parsed as { version?: unknown; entries?: unknown };
  if (version !== FILE_VERSION || typeof entries !== 'object' || entries === null) {
    return undefined;
  }
  const out: Record<string, [number, number]> = {};
  for (const [key, entry] of Object.entries(entries as Record<string, unknown>)) {
    if (!Array.isArray(entry) || entry.length !== 2) return undefined;
    const [value, atMs] = entry as unknown[];
    if (!isFiniteNumber(value) || !isFiniteNumber(atMs)) return undefined;
    out[key] = [value, atMs];
  }
  return out;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
