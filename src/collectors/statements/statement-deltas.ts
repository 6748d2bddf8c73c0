import {
  CounterValues,
  STATEMENT_COUNTERS,
  packCounters,
  type CounterName,
} from './statement-counters.js';

/** One pg_stat_statements entry as read, counters under their newest names. */
export interface StatementRow {
  readonly userid: number;
  readonly dbid: number;
  /** Decimal text: the 64-bit hash does not fit a JS number. */
  readonly queryid: string;
  readonly toplevel: boolean;
  /** ISO time the entry was created (extension 1.11, PostgreSQL 17+). */
  readonly statsSince?: string;
  /** Lifetime cumulative values; a missing counter is one the installed version lacks. */
  readonly counters: Readonly<Partial<Record<CounterName, number>>>;
  /** Lifetime mean and stddev of execution time, used only to derive the interval stddev. */
  readonly meanExecTime?: number;
  readonly stddevExecTime?: number;
}

/** One read of pg_stat_statements for a server. */
export interface StatementSnapshot {
  /** When the read was taken; statsSince is compared with it, so the server's clock is best. */
  readonly takenAt: Date;
  /** pg_stat_statements_info.stats_reset (extension 1.9+), ISO. */
  readonly statsReset?: string;
  /** pg_stat_statements_info.dealloc (extension 1.9+): entries evicted since the reset. */
  readonly dealloc?: number;
  /**
   * Databases this read covered. A key of a database missing from the previous read's list
   * is baselined: its counters predate our watch, not the interval.
   */
  readonly monitoredDbids: readonly number[];
  /** Every entry of the monitored databases (see the class comment on partial reads). */
  readonly rows: readonly StatementRow[];
}

/** One statement's activity during the interval. */
export interface StatementDelta {
  readonly userid: number;
  readonly dbid: number;
  readonly queryid: string;
  readonly toplevel: boolean;
  /** Interval differences of the counters present in both reads (or now, when from zero). */
  readonly counters: Readonly<Partial<Record<CounterName, number>>>;
  /** Population stddev of execution time within the interval, when derivable. */
  readonly stddevExecTime?: number;
  /** The entry was created during the interval, so its lifetime counters are the delta. */
  readonly countedFromZero: boolean;
}

/** How the rows of one snapshot were treated; lets callers see data they are missing. */
export interface StatementDeltaCounts {
  /** Rows in the snapshot. */
  readonly rows: number;
  /** Keys absent from the previous snapshot, whatever was done with them. */
  readonly newKeys: number;
  /** Deltas emitted from zero: new keys, and entries re-created during the interval. */
  readonly countedFromZero: number;
  /**
   * Keys whose interval was lost and which were only baselined: entries re-created before
   * the previous read, and new keys created before it (seen now, not then).
   */
  readonly rebaselined: number;
  /** Keys with a counter that went down (evicted and re-created unseen), baselined. */
  readonly negative: number;
  /** Keys with no new call, so no delta. */
  readonly idle: number;
  /** Keys of the previous snapshot missing now: evicted, reset, or no longer monitored. */
  readonly disappeared: number;
}

/**
 * `baseline`: nothing to compare with (first snapshot, or the clock went back). `reset`: the
 * statistics were reset, so counters restarted. `ok`: deltas computed.
 */
export type StatementDeltaStatus = 'baseline' | 'reset' | 'ok';

/** The outcome of one snapshot. */
export interface StatementDeltaResult {
  readonly status: StatementDeltaStatus;
  /** Seconds the deltas cover; only with status `ok`. */
  readonly intervalSeconds?: number;
  /**
   * Entries evicted during the interval; after a reset, since the reset. A rising value means
   * pg_stat_statements.max is too small and statements are going uncounted.
   */
  readonly deallocDelta?: number;
  readonly deltas: readonly StatementDelta[];
  readonly counts: StatementDeltaCounts;
}

type MutableCounts = { -readonly [K in keyof StatementDeltaCounts]: StatementDeltaCounts[K] };

// Layout of one key's block in Stored.values; NaN marks a value the row did not have.
const SINCE = 0;
const MEAN = 1;
const STDDEV = 2;
const FIRST_COUNTER = 3;
const STRIDE = FIRST_COUNTER + STATEMENT_COUNTERS.length;
const CALLS = STATEMENT_COUNTERS.indexOf('calls');
const TOTAL_EXEC_TIME = STATEMENT_COUNTERS.indexOf('total_exec_time');

/**
 * Differences of one key, reused for every key: apply is synchronous, and a fresh array per
 * statement would only feed the garbage collector.
 */
const difference = new Float64Array(STATEMENT_COUNTERS.length);

/**
 * The previous snapshot, reduced to what the next comparison needs. Values live in one flat
 * Float64Array, a block of 8 × 40 = 320 bytes per key (statsSince, mean, stddev, 37 counters;
 * NaN for those the extension version lacks). With the Map entry and its key string (about
 * 100 bytes) a key costs about 420 bytes: 10 000 keys about 4 MB, twice that while apply
 * compares two snapshots. One allocation per snapshot instead of one per key keeps the
 * collector's heap flat.
 */
interface Stored {
  readonly takenAtMs: number;
  readonly statsReset: string | undefined;
  readonly dealloc: number | undefined;
  readonly monitoredDbids: ReadonlySet<number>;
  readonly values: Float64Array;
  /** Key → start of its block. */
  readonly blocks: Map<string, number>;
}

/** A stored snapshot with its rows in block order, for the comparison that follows. */
interface Stocked {
  readonly stored: Stored;
  readonly rows: readonly StatementRow[];
  readonly keys: readonly string[];
}

/**
 * Turns successive pg_stat_statements snapshots of one server into per-interval deltas, safe
 * against resets, evictions and re-created entries. Keep one per monitored server.
 *
 * Snapshots must hold every entry of the monitored databases: before PostgreSQL 17 a key
 * missing from one read (cut by a top-N limit, say) and back in the next looks new and is
 * counted from zero, its lifetime totals reported as one interval.
 */
export class StatementDeltaTracker {
  #previous: Stored | undefined;

  /**
   * The baseline as plain JSON, so a one-shot process (the NRI integration, started afresh
   * every interval) can diff against the previous run's snapshot.
   */
  saveState(): SavedStatementBaseline | undefined {
    const p = this.#previous;
    if (p === undefined) return undefined;
    const keys = [...p.blocks.keys()];
    const values = new Float64Array(keys.length * STRIDE);
    keys.forEach((key, i) => {
      const at = p.blocks.get(key) ?? 0;
      values.set(p.values.subarray(at, at + STRIDE), i * STRIDE);
    });
    return {
      layout: LAYOUT,
      takenAtMs: p.takenAtMs,
      ...(p.statsReset === undefined ? {} : { statsReset: p.statsReset }),
      ...(p.dealloc === undefined ? {} : { dealloc: p.dealloc }),
      monitoredDbids: [...p.monitoredDbids],
      keys,
      // Binary keeps NaN (a counter the extension lacks) and is a third the size of JSON numbers.
      values: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64'),
    };
  }

  /** Takes a saved baseline back; false (and nothing changed) when it is not one of ours. */
  restoreState(saved: unknown): boolean {
    if (!isSavedBaseline(saved)) return false;
    const bytes = Buffer.from(saved.values, 'base64');
    if (bytes.byteLength !== saved.keys.length * STRIDE * 8) return false;
    const values = new Float64Array(saved.keys.length * STRIDE);
    new Uint8Array(values.buffer).set(bytes);
    this.#previous = {
      takenAtMs: saved.takenAtMs,
      statsReset: saved.statsReset,
      dealloc: saved.dealloc,
      monitoredDbids: new Set(saved.monitoredDbids),
      values,
      blocks: new Map(saved.keys.map((key, i) => [key, i * STRIDE])),
    };
    return true;
  }

  /** Compares a snapshot with the previous one, then keeps it in place of that one. */
  apply(snapshot: StatementSnapshot): StatementDeltaResult {
    const previous = this.#previous;
    const current = stock(snapshot);
    this.#previous = current.stored;
    const counts: MutableCounts = {
      rows: snapshot.rows.length,
      newKeys: 0,
      countedFromZero: 0,
      rebaselined: 0,
      negative: 0,
      idle: 0,
      disappeared: 0,
    };
    // NaN (an invalid date) fails the comparison too, so it also restarts.
    if (previous === undefined || !(current.stored.takenAtMs > previous.takenAtMs)) {
      return { status: 'baseline', deltas: [], counts };
    }
    if (resetBetween(previous.statsReset, snapshot.statsReset)) {
      // pg_stat_statements_reset() zeroes dealloc along with everything else.
      return snapshot.dealloc === undefined
        ? { status: 'reset', deltas: [], counts }
        : { status: 'reset', deallocDelta: snapshot.dealloc, deltas: [], counts };
    }
    const deltas = compare(previous, current, counts);
    const intervalSeconds = (current.stored.takenAtMs - previous.takenAtMs) / 1000;
    const deallocDelta =
      previous.dealloc !== undefined &&
      snapshot.dealloc !== undefined &&
      snapshot.dealloc >= previous.dealloc
        ? snapshot.dealloc - previous.dealloc
        : undefined;
    return deallocDelta === undefined
      ? { status: 'ok', intervalSeconds, deltas, counts }
      : { status: 'ok', intervalSeconds, deallocDelta, deltas, counts };
  }
}

/** A baseline saved between processes; `layout` guards against a changed counter list. */
export interface SavedStatementBaseline {
  readonly layout: string;
  readonly takenAtMs: number;
  readonly statsReset?: string;
  readonly dealloc?: number;
  readonly monitoredDbids: readonly number[];
  readonly keys: readonly string[];
  /** Float64 blocks, base64. */
  readonly values: string;
}

const LAYOUT = `v1:${STATEMENT_COUNTERS.join(',')}`;

function isSavedBaseline(v: unknown): v is SavedStatementBaseline {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    o.layout === LAYOUT &&
    typeof o.takenAtMs === 'number' &&
    Number.isFinite(o.takenAtMs) &&
    (o.statsReset === undefined || typeof o.statsReset === 'string') &&
    (o.dealloc === undefined || typeof o.dealloc === 'number') &&
    Array.isArray(o.monitoredDbids) &&
    o.monitoredDbids.every((d) => typeof d === 'number') &&
    Array.isArray(o.keys) &&
    o.keys.every((k) => typeof k === 'string') &&
    typeof o.values === 'string'
  );
}

/** Whether stats_reset changed; compared as instants, since text forms of one time differ. */
function resetBetween(before: string | undefined, now: string | undefined): boolean {
  if (before === undefined || now === undefined) return false;
  const a = Date.parse(before);
  const b = Date.parse(now);
  return Number.isNaN(a) || Number.isNaN(b) ? before !== now : a !== b;
}

/**
 * The entry's identity: top-level and nested runs of one statement are separate entries. join
 * builds one flat string, where a template literal builds a rope holding on to its pieces,
 * about 100 bytes more per key kept.
 */
function keyOf(row: StatementRow): string {
  return [row.userid, row.dbid, row.queryid, row.toplevel ? 't' : 'f'].join(':');
}

/** Reduces a snapshot to its stored form; a repeated key keeps its first row. */
function stock(snapshot: StatementSnapshot): Stocked {
  const values = new Float64Array(snapshot.rows.length * STRIDE);
  const blocks = new Map<string, number>();
  const rows: StatementRow[] = [];
  const keys: string[] = [];
  for (const row of snapshot.rows) {
    const key = keyOf(row);
    if (blocks.has(key)) continue;
    const at = rows.length * STRIDE;
    blocks.set(key, at);
    rows.push(row);
    keys.push(key);
    values[at + SINCE] = row.statsSince === undefined ? Number.NaN : Date.parse(row.statsSince);
    values[at + MEAN] = row.meanExecTime ?? Number.NaN;
    values[at + STDDEV] = row.stddevExecTime ?? Number.NaN;
    packCounters(row.counters, values, at + FIRST_COUNTER);
  }
  const stored: Stored = {
    takenAtMs: snapshot.takenAt.getTime(),
    statsReset: snapshot.statsReset,
    dealloc: snapshot.dealloc,
    monitoredDbids: new Set(snapshot.monitoredDbids),
    values,
    blocks,
  };
  return { stored, rows, keys };
}

/** The deltas of every key of `current` against `previous`, tallying what was done in counts. */
function compare(previous: Stored, current: Stocked, counts: MutableCounts): StatementDelta[] {
  const now = current.stored;
  const deltas: StatementDelta[] = [];
  let matched = 0;
  for (let j = 0; j < current.rows.length; j++) {
    const row = current.rows[j];
    const key = current.keys[j];
    if (row === undefined || key === undefined) continue;
    const at = j * STRIDE;
    const since = now.values[at + SINCE] ?? Number.NaN;
    const before = previous.blocks.get(key);
    if (before === undefined) {
      counts.newKeys++;
      // A newly monitored database's entries predate our watch; their totals are no interval.
      if (!previous.monitoredDbids.has(row.dbid)) continue;
      // Created before the previous read yet missing from it: its interval share is unknown.
      if (since < previous.takenAtMs) {
        counts.rebaselined++;
        continue;
      }
      // Before PostgreSQL 17 there is no statsSince and deep.md §9D baselines such keys, but
      // that hides for good a statement run only within one interval (an expensive ad-hoc
      // report never seen again). Entries are created when first run, and after a full reset
      // every entry restarts as a new key, so counting from zero is right for both; the cost
      // is overcounting an entry that existed unseen, which the snapshot contract rules out.
      emitFromZero(deltas, row, now.values, at, counts);
      continue;
    }
    matched++;
    const sinceBefore = previous.values[before + SINCE] ?? Number.NaN;
    if (since > sinceBefore) {
      // Evicted and re-created (PostgreSQL 17+): the old counters are unrelated to the new.
      if (since >= previous.takenAtMs) emitFromZero(deltas, row, now.values, at, counts);
      else counts.rebaselined++;
      continue;
    }
    emitDifference(deltas, row, previous.values, before, now.values, at, counts);
  }
  counts.disappeared = previous.blocks.size - matched;
  return deltas;
}

/** An entry created within the interval: its lifetime values are the interval's. */
function emitFromZero(
  deltas: StatementDelta[],
  row: StatementRow,
  values: Float64Array,
  at: number,
  counts: MutableCounts,
): void {
  // NaN (no calls column) is no call either.
  if (!((values[at + FIRST_COUNTER + CALLS] ?? Number.NaN) > 0)) {
    counts.idle++;
    return;
  }
  counts.countedFromZero++;
  const stddev = values[at + STDDEV] ?? Number.NaN;
  const counters = new CounterValues(values, at + FIRST_COUNTER);
  deltas.push(delta(row, counters, true, Number.isNaN(stddev) ? undefined : stddev));
}

/** A key present in both snapshots: counter by counter difference, refused if any went down. */
function emitDifference(
  deltas: StatementDelta[],
  row: StatementRow,
  previous: Float64Array,
  before: number,
  now: Float64Array,
  at: number,
  counts: MutableCounts,
): void {
  for (let k = 0; k < difference.length; k++) {
    // NaN when either read lacked the counter, so CounterValues leaves it out.
    const d =
      (now[at + FIRST_COUNTER + k] ?? Number.NaN) -
      (previous[before + FIRST_COUNTER + k] ?? Number.NaN);
    // Evicted and re-created between reads, unseen: the values now count from an unknown time.
    if (d < 0) {
      counts.negative++;
      return;
    }
    difference[k] = d;
  }
  if (!((difference[CALLS] ?? Number.NaN) > 0)) {
    counts.idle++;
    return;
  }
  const stddev = intervalStddev(previous, before, now, at);
  deltas.push(delta(row, new CounterValues(difference, 0), false, stddev));
}

/**
 * Execution-time stddev within the interval from the two lifetime ones, using `difference`.
 * pgss keeps the population stddev, so calls·(stddev² + mean²) is the sum of squared times;
 * its difference over Δcalls, less the interval mean squared, is the interval variance.
 * Rounding can take it just below zero when times barely vary, hence the clamp.
 */
function intervalStddev(
  previous: Float64Array,
  before: number,
  now: Float64Array,
  at: number,
): number | undefined {
  const calls = difference[CALLS] ?? Number.NaN;
  const mean = (difference[TOTAL_EXEC_TIME] ?? Number.NaN) / calls;
  const variance = (squares(now, at) - squares(previous, before)) / calls - mean * mean;
  return Number.isNaN(variance) ? undefined : Math.sqrt(Math.max(0, variance));
}

/** Sum of squared execution times over an entry's life; NaN without mean or stddev. */
function squares(values: Float64Array, block: number): number {
  const calls = values[block + FIRST_COUNTER + CALLS] ?? Number.NaN;
  const mean = values[block + MEAN] ?? Number.NaN;
  const stddev = values[block + STDDEV] ?? Number.NaN;
  return calls * (stddev * stddev + mean * mean);
}

/** A delta, without a stddevExecTime key when there is none. */
function delta(
  row: StatementRow,
  counters: CounterValues,
  countedFromZero: boolean,
  stddevExecTime: number | undefined,
): StatementDelta {
  // Two literals rather than a spread: a spread copies, and this runs for every statement.
  return stddevExecTime === undefined
    ? {
        userid: row.userid,
        dbid: row.dbid,
        queryid: row.queryid,
        toplevel: row.toplevel,
        counters,
        countedFromZero,
      }
    : {
        userid: row.userid,
        dbid: row.dbid,
        queryid: row.queryid,
        toplevel: row.toplevel,
        counters,
        stddevExecTime,
        countedFromZero,
      };
}
