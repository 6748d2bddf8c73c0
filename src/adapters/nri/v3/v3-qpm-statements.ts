import type { ExecutionPlan } from '../../../core/model/execution-plan.js';
import type { IndividualQuery } from '../../../core/model/individual-query.js';
import type { SlowQuery } from '../../../core/model/slow-query.js';
import { V3_QPM_EVENT_TYPES } from './v3-qpm-event-types.js';
import { nriCollectionTimestamp, putInteger, putNumber, putText, round3 } from './v3-qpm-values.js';
import type { V3MetricSet } from './v3-types.js';

/** nri never reports more executions than this per slow query, whatever the count threshold. */
export const V3_INDIVIDUAL_PER_SLOW_QUERY = 10;

/** Literals, numbers and quoted identifiers, nri's anonymisation pattern. */
const LITERALS = /'[^']*'|\d+|".*?"/g;

/**
 * The text nri reports for a statement: utility statements keep their literals in
 * pg_stat_statements, so nri anonymises any text mentioning "alter" (e.g. ALTER ROLE …
 * VALID UNTIL '…'), and the same text is reused for its executions.
 */
export function slowQueryText(text: string): string {
  return /alter/i.test(text) ? text.replace(LITERALS, '?') : text;
}

/**
 * `PostgresSlowQueries`: the first `limit` of our ranking. Our values are interval values
 * (pg_stat_statements deltas), not nri's lifetime averages, under nri's names.
 */
export function slowQuerySet(q: SlowQuery): V3MetricSet {
  const set: V3MetricSet = { event_type: V3_QPM_EVENT_TYPES.slowQueries };
  putText(set, 'query_id', q.queryId);
  putText(set, 'query_text', slowQueryText(q.queryText));
  putText(set, 'database_name', q.databaseName);
  // nri reports the collector session's current_schema(), not the statement's; our
  // collector records exactly that from its own snapshot session. When it is unknown
  // (current_schema() is NULL for a search_path naming no existing schema) nri's pointer is
  // nil and the field is left out, so we leave it out too rather than claim `public`;
  // schema_name is optional in nri's schema.
  putText(set, 'schema_name', q.schemaName);
  putInteger(set, 'execution_count', q.calls);
  putNumber(set, 'avg_elapsed_time_ms', round3(q.meanExecTimeMs));
  putInteger(set, 'avg_disk_reads', q.avgDiskReads);
  putInteger(set, 'avg_disk_writes', q.avgDiskWrites);
  putText(set, 'statement_type', q.statementType);
  putText(set, 'collection_timestamp', nriCollectionTimestamp(q.collectedAt));
  return set;
}

/** The key joining a statement's executions and plans to it. */
export function statementKey(databaseName: string, queryId: string): string {
  return `${databaseName}\u0000${queryId}`;
}

/**
 * `PostgresIndividualQueries`: for each reported slow query, in its rank, its slowest
 * executions (at most min(limit, 10), as nri's per-statement `LIMIT`), only when the
 * statement's interval mean is above the response-time threshold (nri filters on
 * total_exec_time/calls, the same per-call mean). Executions of statements not reported are
 * left out, as nri only looks executions up for its slow queries.
 */
export function individualQuerySets(
  reported: readonly SlowQuery[],
  executions: readonly IndividualQuery[],
  plans: readonly ExecutionPlan[],
  limit: number,
  responseTimeThresholdMs: number,
): V3MetricSet[] {
  const perStatement = Math.min(limit, V3_INDIVIDUAL_PER_SLOW_QUERY);
  if (perStatement <= 0) return [];
  const byStatement = new Map<string, IndividualQuery[]>();
  for (const e of executions) {
    const key = statementKey(e.databaseName, e.queryId);
    const list = byStatement.get(key) ?? [];
    list.push(e);
    byStatement.set(key, list);
  }
  // The batch's own plan of a statement names an execution whose plan was not known when it
  // was seen (nri's schema requires plan_id); the latest capture wins.
  const planOf = new Map(plans.map((p) => [statementKey(p.databaseName, p.queryId), p.planId]));
  const sets: V3MetricSet[] = [];
  const seen = new Set<string>();
  for (const q of reported) {
    const key = statementKey(q.databaseName, q.queryId);
    // A statement listed twice (e.g. top-level and nested rows) is looked up once.
    if (seen.has(key)) continue;
    seen.add(key);
    // IndividualQuery.avgExecTimeMs is a copy of this mean; the slow query is the source
    // nri reads avg_exec_time_ms from, so filter and report the same value.
    if (!(q.meanExecTimeMs > responseTimeThresholdMs)) continue;
    const slowest = [...(byStatement.get(key) ?? [])]
      .sort((a, b) => (b.execTimeMs ?? -1) - (a.execTimeMs ?? -1))
      .slice(0, perStatement);
    for (const e of slowest) {
      const set: V3MetricSet = { event_type: V3_QPM_EVENT_TYPES.individualQueries };
      // nri replaces the execution's text by the statement's normalised text.
      putText(set, 'query_text', slowQueryText(q.queryText));
      putText(set, 'query_id', q.queryId);
      putText(set, 'database_name', q.databaseName);
      putNumber(set, 'cpu_time_ms', e.cpuTimeMs === undefined ? undefined : round3(e.cpuTimeMs));
      putNumber(set, 'exec_time_ms', e.execTimeMs === undefined ? undefined : round3(e.execTimeMs));
      putNumber(set, 'avg_exec_time_ms', round3(q.meanExecTimeMs));
      // Our plan id is the plan's structural hash, stable across runs, where nri makes up a
      // random id per execution; it joins these sets to PostgresExecutionPlanMetrics.
      putText(set, 'plan_id', e.planId ?? planOf.get(key));
      sets.push(set);
    }
  }
  return sets;
}
