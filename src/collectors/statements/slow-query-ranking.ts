import type { SlowQuery } from '../../core/model/slow-query.js';
import { statementType } from '../query-text/statement-type.js';
import type { CounterName } from './statement-counters.js';
import type { StatementDelta } from './statement-deltas.js';

/** A statement's interval activity summed over the roles that ran it. */
export interface StatementActivity {
  readonly dbid: number;
  readonly queryId: string;
  readonly toplevel: boolean;
  readonly counters: Partial<Record<CounterName, number>>;
  /** Roles that ran it; one name is reported only when a single role did. */
  readonly userids: Set<number>;
  /** Interval stddev, kept only when a single entry contributed (roles do not combine). */
  stddevExecTime: number | undefined;
  entries: number;
}

/**
 * Sums deltas of one statement across roles: the same query run by two roles is one slow
 * query to a reader, as nri-postgresql reports it. Top-level and nested runs stay apart, or a
 * function's inner statements would be counted twice.
 */
export function statementActivity(deltas: readonly StatementDelta[]): StatementActivity[] {
  const byKey = new Map<string, StatementActivity>();
  for (const d of deltas) {
    const key = `${d.dbid}/${d.queryid}/${d.toplevel ? 1 : 0}`;
    let a = byKey.get(key);
    if (a === undefined) {
      a = {
        dbid: d.dbid,
        queryId: d.queryid,
        toplevel: d.toplevel,
        counters: {},
        userids: new Set(),
        stddevExecTime: d.stddevExecTime,
        entries: 0,
      };
      byKey.set(key, a);
    } else {
      a.stddevExecTime = undefined;
    }
    a.entries++;
    a.userids.add(d.userid);
    for (const [name, value] of Object.entries(d.counters) as [CounterName, number][]) {
      a.counters[name] = (a.counters[name] ?? 0) + value;
    }
  }
  return [...byKey.values()];
}

/** Everything a SlowQuery needs that the deltas do not carry. */
export interface SlowQueryContext {
  readonly databaseOf: (dbid: number) => string | undefined;
  readonly userOf: (userid: number) => string | undefined;
  readonly textOf: (queryId: string) => string | undefined;
  /** What of a text leaves the process (obfuscated, as is, or nothing); as is when absent. */
  readonly shownText?: (text: string) => string;
  readonly schemaName?: string;
  readonly intervalSeconds: number;
  readonly collectedAt: string;
}

/** The `limit` statements with the most execution time in the interval, busiest first. */
export function rankByExecutionTime(
  activity: readonly StatementActivity[],
  limit: number,
): StatementActivity[] {
  return activity
    .filter((a) => (a.counters.calls ?? 0) > 0)
    .sort((a, b) => (b.counters.total_exec_time ?? 0) - (a.counters.total_exec_time ?? 0))
    .slice(0, limit);
}

export function toSlowQuery(a: StatementActivity, ctx: SlowQueryContext): SlowQuery {
  const c = a.counters;
  const calls = c.calls ?? 0;
  const total = c.total_exec_time ?? 0;
  const text = ctx.textOf(a.queryId);
  const perCall = (n: number | undefined): number => (calls > 0 ? round((n ?? 0) / calls) : 0);
  const user = a.userids.size === 1 ? ctx.userOf([...a.userids][0] ?? -1) : undefined;
  const has = (name: CounterName): boolean => c[name] !== undefined;
  return {
    queryId: a.queryId,
    queryText: text === undefined ? '' : (ctx.shownText?.(text) ?? text),
    databaseName: ctx.databaseOf(a.dbid) ?? String(a.dbid),
    ...(user === undefined ? {} : { userName: user }),
    ...(ctx.schemaName === undefined ? {} : { schemaName: ctx.schemaName }),
    statementType: text === undefined ? 'OTHER' : statementType(text),
    toplevel: a.toplevel,
    intervalSeconds: ctx.intervalSeconds,
    calls,
    totalExecTimeMs: round(total),
    meanExecTimeMs: perCall(total),
    ...(a.stddevExecTime === undefined ? {} : { stddevExecTimeMs: round(a.stddevExecTime) }),
    ...(has('total_plan_time') ? { totalPlanTimeMs: round(c.total_plan_time ?? 0) } : {}),
    rows: c.rows ?? 0,
    avgDiskReads: perCall(c.shared_blks_read),
    avgDiskWrites: perCall(c.shared_blks_written),
    ...pick(c, 'sharedBlksHit', 'shared_blks_hit'),
    ...pick(c, 'sharedBlksRead', 'shared_blks_read'),
    ...pick(c, 'sharedBlksDirtied', 'shared_blks_dirtied'),
    ...pick(c, 'sharedBlksWritten', 'shared_blks_written'),
    ...pick(c, 'tempBlksRead', 'temp_blks_read'),
    ...pick(c, 'tempBlksWritten', 'temp_blks_written'),
    ...pick(c, 'blkReadTimeMs', 'shared_blk_read_time'),
    ...pick(c, 'blkWriteTimeMs', 'shared_blk_write_time'),
    ...pick(c, 'walRecords', 'wal_records'),
    ...pick(c, 'walBytes', 'wal_bytes'),
    ...(has('jit_generation_time')
      ? {
          jitTimeMs: round(
            (c.jit_generation_time ?? 0) +
              (c.jit_inlining_time ?? 0) +
              (c.jit_optimization_time ?? 0) +
              (c.jit_emission_time ?? 0) +
              (c.jit_deform_time ?? 0),
          ),
        }
      : {}),
    collectedAt: ctx.collectedAt,
  };
}

function pick<K extends string>(
  c: Partial<Record<CounterName, number>>,
  key: K,
  name: CounterName,
): { [P in K]?: number } {
  const value = c[name];
  return (value === undefined ? {} : { [key]: round(value) }) as { [P in K]?: number };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
