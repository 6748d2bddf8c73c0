import type { CollectContext, Collector } from '../../core/collector.js';
import { OWN_SQL_MARKER } from '../connection/pg-client-config.js';
import { CollectorUnavailableError } from '../../core/errors.js';
import type { AshSample } from '../../core/model/ash-sample.js';
import type { IndividualQuery } from '../../core/model/individual-query.js';
import type { PlanChange } from '../../core/model/plan-change.js';
import type { ProbeRow } from '../../core/model/probe-sample.js';
import type { ProbeSchema } from '../../core/probe-schema.js';
import { hasExtension, isPreloaded } from '../../core/server-facts.js';
import { sessionsOf } from '../ash/active-session-aggregate.js';
import { AshConsumer } from '../ash/ash-consumer.js';
import { fetchNewTexts } from '../probes/pg-stat-statements.js';
import { SLOW_QUERIES } from '../query-performance-names.js';
import { obfuscateSql } from '../query-text/obfuscate-sql.js';
import type { QueryPerformanceState } from '../query-performance-state.js';
import { recentActivity } from './recent-activity.js';
import { individualQueries } from './individual-queries.js';
import { KcacheCpu } from './kcache-cpu.js';
import {
  rankByExecutionTime,
  statementActivity,
  toSlowQuery,
  type SlowQueryContext,
} from './slow-query-ranking.js';
import type { CounterName } from './statement-counters.js';
import type { StatementDeltaResult, StatementRow } from './statement-deltas.js';
import {
  snapshotCounters,
  statementsFunction,
  statementSnapshotSql,
} from './statement-snapshot-sql.js';

const EXTENSION = 'pg_stat_statements';

/** How each snapshot was treated: stored, so evictions and resets have a history. */
export const STATEMENT_INTERVALS_SCHEMA: ProbeSchema = {
  name: SLOW_QUERIES,
  scope: 'server',
  columns: [
    { name: 'status', type: 'text' },
    { name: 'interval_seconds', type: 'float8' },
    { name: 'entries', type: 'int8' },
    { name: 'active_statements', type: 'int8' },
    { name: 'dealloc_delta', type: 'int8' },
    { name: 'new_keys', type: 'int8' },
    { name: 'counted_from_zero', type: 'int8' },
    { name: 'rebaselined', type: 'int8' },
    { name: 'negative', type: 'int8' },
    { name: 'disappeared', type: 'int8' },
    { name: 'stats_reset', type: 'timestamptz' },
  ],
  key: [],
  retentionDays: 30,
  changeTracked: false,
};

interface SnapshotRow extends Record<string, unknown> {
  readonly userid: number;
  readonly dbid: number;
  readonly datname: string;
  readonly rolname: string | null;
  readonly queryid: string;
  readonly toplevel: boolean;
  readonly stats_since: string | null;
  readonly mean_exec_time: number | null;
  readonly stddev_exec_time: number | null;
  readonly dealloc: number | null;
  readonly stats_reset: string | null;
  readonly taken_at: string;
  readonly current_schema: string | null;
}

/**
 * Slow queries: every interval, the difference of each pg_stat_statements entry since the
 * previous read (resets, evictions and re-created entries handled), ranked by execution time
 * in the interval, never by lifetime averages. Also the recent executions of those statements
 * the session sampler saw, and, for statements with a captured plan, whether a new plan made
 * them slower.
 */
export function slowQueriesCollector(state: QueryPerformanceState): Collector {
  const consumer = new AshConsumer(SLOW_QUERIES, state.ash);
  const kcache = new KcacheCpu();
  return {
    name: SLOW_QUERIES,
    scope: 'server',
    description:
      'Slow queries: per-interval pg_stat_statements deltas, top N by execution time, with recent executions',
    defaultIntervalMs: 60_000,
    schema: STATEMENT_INTERVALS_SCHEMA,
    unavailableReason(session) {
      const facts = session.facts;
      if (!hasExtension(facts, EXTENSION)) {
        return `${EXTENSION} is not installed in database ${facts.database} (CREATE EXTENSION ${EXTENSION})`;
      }
      if (isPreloaded(facts, EXTENSION) === false) {
        return `${EXTENSION} is not in shared_preload_libraries (add it and restart PostgreSQL)`;
      }
      return undefined;
    },
    async collect(ctx) {
      const target = ctx.target.name;
      const facts = ctx.session.facts;
      const rows = await ctx.session.query<SnapshotRow>(statementSnapshotSql(facts), [
        ctx.databases,
      ]);
      const monitored = await monitoredDbids(ctx);
      const counters = snapshotCounters(facts);
      const first = rows[0];
      const result = state.deltas(target).apply({
        takenAt: new Date(first?.taken_at ?? monitored.now),
        ...(first?.stats_reset == null ? {} : { statsReset: first.stats_reset }),
        ...(first?.dealloc == null ? {} : { dealloc: first.dealloc }),
        monitoredDbids: monitored.dbids,
        rows: rows.map((row) => toStatementRow(row, counters)),
      });
      const databases = new Map(rows.map((r) => [r.dbid, r.datname]));
      const users = new Map(rows.map((r) => [r.userid, r.rolname ?? undefined]));
      const activity = statementActivity(result.deltas);
      const limit = state.settings.slowQueryLimit;
      // A few more than the limit, since our own statements are dropped once texts are known.
      const candidates = rankByExecutionTime(activity, limit + OWN_STATEMENTS_SLACK);
      await fetchNewTexts(
        ctx,
        statementsFunction(facts),
        candidates.map((a) => a.queryId),
        state.texts,
      );
      const ranked = candidates
        .filter((a) => !(state.texts.get(target, a.queryId) ?? '').startsWith(OWN_SQL_MARKER))
        .slice(0, limit);
      for (const a of activity) {
        const databaseName = databases.get(a.dbid);
        if (databaseName === undefined) continue;
        state.statements.set(target, a.queryId, { databaseName });
      }
      const collectedAt = ctx.startedAt.toISOString();
      const context: SlowQueryContext = {
        databaseOf: (dbid) => databases.get(dbid),
        userOf: (userid) => users.get(userid),
        textOf: (id) => state.texts.get(target, id),
        // pg_stat_statements replaces constants only in plannable statements; utility ones
        // (ALTER ROLE … PASSWORD '…', SET …) keep theirs, so the text is obfuscated as well.
        // The raw text stays in the cache: EXPLAIN needs it.
        shownText:
          state.settings.queryText === 'obfuscated'
            ? (text) => obfuscateSql(text)
            : state.settings.queryText === 'none'
              ? () => ''
              : undefined,
        ...(first?.current_schema == null ? {} : { schemaName: first.current_schema }),
        intervalSeconds: result.intervalSeconds ?? 0,
        collectedAt,
      };
      const slow = ranked.map((a) => toSlowQuery(a, context));
      state.setLatestSlowQueries(target, slow);

      // Plan regressions: every statement with a known plan, not only the top N.
      const regressions = state.regressions(target);
      const planChanges: PlanChange[] = [];
      for (const a of activity) {
        const databaseName = databases.get(a.dbid);
        if (databaseName === undefined || !a.toplevel) continue;
        const query = { databaseName, queryId: a.queryId };
        if (regressions.currentPlan(query) === undefined) continue;
        const change = regressions.observeInterval(query, {
          calls: a.counters.calls ?? 0,
          totalExecTimeMs: a.counters.total_exec_time ?? 0,
          intervalEnd: ctx.startedAt,
        });
        if (change !== undefined) planChanges.push(change);
      }

      const cpu = await kcache.perCall(
        ctx,
        ranked.map((a) => ({ dbid: a.dbid, queryId: a.queryId, calls: a.counters.calls ?? 0 })),
      );
      const dbidOf = new Map([...databases].map(([dbid, name]) => [name, dbid]));
      const executions = await recentExecutions(ctx, state, consumer);
      const individual = individualQueries(
        slow,
        executions.sessions,
        state.settings.individualQueriesPerQuery,
        executions.source,
        {
          cpuTimeMs: (id) => {
            const q = slow.find((s) => s.queryId === id);
            const dbid = q === undefined ? undefined : dbidOf.get(q.databaseName);
            return dbid === undefined ? undefined : cpu.get(`${dbid}/${id}`);
          },
          planId: (id) => {
            const q = slow.find((s) => s.queryId === id);
            return q === undefined
              ? undefined
              : regressions.currentPlan({ databaseName: q.databaseName, queryId: id });
          },
        },
        state.settings.queryText !== 'none',
      );
      return {
        slowQueries: slow,
        individualQueries: individual,
        planChanges,
        probes: [
          {
            probe: SLOW_QUERIES,
            scope: 'server',
            collectedAt,
            rows: [intervalRow(result, activity.length, first?.stats_reset ?? null)],
          },
        ],
      };
    },
  };
}

function toStatementRow(row: SnapshotRow, counters: readonly CounterName[]): StatementRow {
  const values: Partial<Record<CounterName, number>> = {};
  for (const name of counters) {
    const value = row[name];
    if (typeof value === 'number') values[name] = value;
  }
  return {
    userid: row.userid,
    dbid: row.dbid,
    queryid: row.queryid,
    toplevel: row.toplevel,
    ...(row.stats_since === null ? {} : { statsSince: row.stats_since }),
    counters: values,
    ...(row.mean_exec_time === null ? {} : { meanExecTime: row.mean_exec_time }),
    ...(row.stddev_exec_time === null ? {} : { stddevExecTime: row.stddev_exec_time }),
  };
}

/**
 * Oids of the monitored databases, and the server's clock: an empty snapshot still needs a
 * server time, since stats_since (server time) is compared with it.
 */
async function monitoredDbids(ctx: CollectContext): Promise<{ dbids: number[]; now: string }> {
  const rows = await ctx.session.query<{ dbids: number[]; now: string }>(
    `SELECT clock_timestamp() AS now,
            ARRAY(SELECT oid::int8 FROM pg_catalog.pg_database
                   WHERE datname = ANY($1::text[])) AS dbids`,
    [ctx.databases],
  );
  return {
    dbids: (rows[0]?.dbids ?? []).map(Number),
    now: rows[0]?.now ?? ctx.startedAt.toISOString(),
  };
}

/**
 * Sessions to find recent executions in: what the sampler saw since this collector's last run,
 * or, without a sampler, one read of pg_stat_activity now.
 */
async function recentExecutions(
  ctx: CollectContext,
  state: QueryPerformanceState,
  consumer: AshConsumer,
): Promise<{ sessions: AshSample[]; source: IndividualQuery['source'] }> {
  const databases = new Set(ctx.databases);
  if (state.ash.sampler(ctx.target.name) !== undefined) {
    const read = consumer.read(ctx);
    return { sessions: sessionsOf(read.ticks, databases), source: 'ash' };
  }
  try {
    const sessions = await recentActivity(ctx, state.settings);
    return {
      sessions: sessions.filter((s) => databases.has(s.databaseName ?? '')),
      source: 'pg_stat_activity',
    };
  } catch (err) {
    if (err instanceof CollectorUnavailableError)
      return { sessions: [], source: 'pg_stat_activity' };
    throw err;
  }
}

function intervalRow(
  result: StatementDeltaResult,
  activeStatements: number,
  statsReset: string | null,
): ProbeRow {
  return {
    status: result.status,
    interval_seconds: result.intervalSeconds ?? null,
    entries: result.counts.rows,
    active_statements: activeStatements,
    dealloc_delta: result.deallocDelta ?? null,
    new_keys: result.counts.newKeys,
    counted_from_zero: result.counts.countedFromZero,
    rebaselined: result.counts.rebaselined,
    negative: result.counts.negative,
    disappeared: result.counts.disappeared,
    stats_reset: statsReset,
  };
}

/** Distinct statements pgquerylens itself may have among the busiest (probes, samplers). */
const OWN_STATEMENTS_SLACK = 20;
