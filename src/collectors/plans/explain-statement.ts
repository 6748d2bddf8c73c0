import type { QuerySession } from '../../core/target-connector.js';

/** Limits of one EXPLAIN: planning takes locks and may queue behind DDL. */
export const EXPLAIN_STATEMENT_TIMEOUT = '2s';
export const EXPLAIN_LOCK_TIMEOUT = '100ms';

/** How a plan was obtained. */
export type ExplainRoute = 'generic_plan' | 'prepared' | 'helper';

export interface ExplainResult {
  readonly plan: unknown;
  readonly route: ExplainRoute;
}

/**
 * EXPLAIN of a normalised statement (`$n` placeholders), never ANALYZE, so nothing is executed.
 * Runs inside a read-only transaction with short statement and lock timeouts, rolled back. The
 * caller has already checked with PostgreSQL's own parser that `text` is exactly one
 * SELECT/INSERT/UPDATE/DELETE/MERGE, which is what makes sending it as text safe; the read-only
 * transaction is the second wall.
 *
 * PostgreSQL 16+ plans the placeholders directly (GENERIC_PLAN). Before 16 the statement is
 * prepared with a forced generic plan and EXECUTEd with NULLs under EXPLAIN; a prepared
 * statement outlives the transaction, so it is always deallocated afterwards.
 */
export async function explainStatement(
  session: QuerySession,
  text: string,
  statementName: string,
  helper?: string,
): Promise<ExplainResult> {
  const major = session.facts.major;
  await session.query('BEGIN READ ONLY');
  let prepared = false;
  try {
    await session.query(`SET LOCAL statement_timeout = '${EXPLAIN_STATEMENT_TIMEOUT}'`);
    await session.query(`SET LOCAL lock_timeout = '${EXPLAIN_LOCK_TIMEOUT}'`);
    let result: ExplainResult;
    if (helper !== undefined) {
      // The helper runs as its owner, for statements the monitoring role may not plan; the
      // text travels as a parameter.
      const rows = await session.query<{ plan: unknown }>(`SELECT ${helper}($1) AS plan`, [text]);
      result = { plan: rows[0]?.plan, route: 'helper' };
    } else if (major >= 16) {
      const rows = await session.query<{ 'QUERY PLAN': unknown }>(
        `EXPLAIN (GENERIC_PLAN, FORMAT JSON) ${text}`,
      );
      result = { plan: rows[0]?.['QUERY PLAN'], route: 'generic_plan' };
    } else {
      await session.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
      await session.query(`PREPARE ${statementName} AS ${text}`);
      prepared = true;
      const params = await session.query<{ n: number }>(
        `SELECT coalesce(cardinality(parameter_types), 0) AS n
           FROM pg_catalog.pg_prepared_statements WHERE name = $1`,
        [statementName],
      );
      const n = params[0]?.n ?? 0;
      const args = n === 0 ? '' : `(${Array.from({ length: n }, () => 'NULL').join(', ')})`;
      const rows = await session.query<{ 'QUERY PLAN': unknown }>(
        `EXPLAIN (FORMAT JSON) EXECUTE ${statementName}${args}`,
      );
      result = { plan: rows[0]?.['QUERY PLAN'], route: 'prepared' };
    }
    return result;
  } finally {
    await session.query('ROLLBACK').catch(() => undefined);
    if (prepared) await session.query(`DEALLOCATE ${statementName}`).catch(() => undefined);
  }
}
