import type { AshSample } from '../../core/model/ash-sample.js';
import type { IndividualQuery } from '../../core/model/individual-query.js';
import type { SlowQuery } from '../../core/model/slow-query.js';

/** What enriches an observed execution beyond the session sample. */
export interface ExecutionEnrichment {
  /** Mean CPU per call of the statement this interval, ms (pg_stat_kcache). */
  readonly cpuTimeMs?: (queryId: string) => number | undefined;
  /** The plan the statement currently runs with. */
  readonly planId?: (queryId: string) => string | undefined;
}

/**
 * Recent executions of the slow queries, as sessions showed them: one per execution (a session
 * and its statement start), its longest-seen elapsed time, the slowest first, at most
 * `perQuery` per statement. The text is the session's (obfuscated as configured), which
 * carries the shape of the real call rather than pg_stat_statements' placeholders.
 */
export function individualQueries(
  slow: readonly SlowQuery[],
  sessions: readonly AshSample[],
  perQuery: number,
  source: IndividualQuery['source'],
  enrich: ExecutionEnrichment = {},
  withTexts = true,
): IndividualQuery[] {
  if (perQuery <= 0 || slow.length === 0) return [];
  const wanted = new Map(slow.map((q) => [`${q.databaseName}/${q.queryId}`, q]));
  const executions = new Map<string, { sample: AshSample; elapsedMs: number; slow: SlowQuery }>();
  for (const s of sessions) {
    // Only running statements: idle in a transaction, query_id names the last statement,
    // and the time since it started is the application's, not the statement's.
    if (s.queryId === undefined || s.queryStart === undefined || s.state !== 'active') continue;
    const q = wanted.get(`${s.databaseName ?? ''}/${s.queryId}`);
    if (q === undefined) continue;
    const elapsedMs = Math.max(0, Date.parse(s.sampledAt) - Date.parse(s.queryStart));
    const key = `${s.pid}/${s.backendStart ?? ''}/${s.queryStart}`;
    const known = executions.get(key);
    if (known === undefined || elapsedMs > known.elapsedMs) {
      executions.set(key, { sample: s, elapsedMs, slow: q });
    }
  }
  const perStatement = new Map<string, IndividualQuery[]>();
  const ordered = [...executions.values()].sort((a, b) => b.elapsedMs - a.elapsedMs);
  for (const { sample, elapsedMs, slow: q } of ordered) {
    const list = perStatement.get(q.queryId) ?? [];
    if (list.length >= perQuery) continue;
    const cpu = enrich.cpuTimeMs?.(q.queryId);
    const plan = enrich.planId?.(q.queryId);
    list.push({
      queryId: q.queryId,
      // A session without text (a role without pg_read_all_stats) falls back to the statement.
      queryText: withTexts ? (sample.query ?? q.queryText) : '',
      ...(sample.queryTruncated === true ? { queryTruncated: true } : {}),
      databaseName: q.databaseName,
      pid: sample.pid,
      state: sample.state,
      execTimeMs: Math.round(elapsedMs * 1000) / 1000,
      ...(cpu === undefined ? {} : { cpuTimeMs: cpu }),
      avgExecTimeMs: q.meanExecTimeMs,
      ...(plan === undefined ? {} : { planId: plan }),
      source,
      observedAt: sample.sampledAt,
    });
    perStatement.set(q.queryId, list);
  }
  return [...perStatement.values()].flat();
}
