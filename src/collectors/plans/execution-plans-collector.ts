import type { CollectContext, Collector } from '../../core/collector.js';
import { errorMessage } from '../../core/errors.js';
import type { ExecutionPlan } from '../../core/model/execution-plan.js';
import type { PlanChange } from '../../core/model/plan-change.js';
import { redact } from '../../core/redact.js';
import { sessionsOf } from '../ash/active-session-aggregate.js';
import { AshConsumer } from '../ash/ash-consumer.js';
import { REDACTED_TEXT, TEXT_LIMIT } from '../probes/pg-stat-statements.js';
import { EXECUTION_PLANS } from '../query-performance-names.js';
import type { QueryPerformanceState } from '../query-performance-state.js';
import { obfuscateSql } from '../query-text/obfuscate-sql.js';
import { explainableStatement, loadSqlParser } from '../query-text/sql-parser.js';
import { explainStatement } from './explain-statement.js';
import { applyConditionPolicy } from './plan-conditions.js';
import { flattenPlan, planRelations } from './plan-flatten.js';
import { planHash } from './plan-hash.js';

/** A statement worth a plan: ranked first by the slow-query collector, then sampled by ASH. */
interface Candidate {
  readonly queryId: string;
  readonly text: string;
}

/**
 * Execution plans of the statements that matter, captured safely: never ANALYZE, only a text
 * PostgreSQL's own parser finds to be exactly one plannable statement, in a read-only
 * transaction with 2 s statement and 100 ms lock timeouts, within per-statement and per-cycle
 * budgets. Each plan gets a structural hash; a statement whose hash changes yields a plan
 * change, and the slow-query collector later judges whether it became slower.
 */
export function executionPlansCollector(state: QueryPerformanceState): Collector {
  const settings = state.settings.plans;
  const budget = state.planBudget;
  const consumer = new AshConsumer(EXECUTION_PLANS, state.ash);
  const sampled = new SampledStatements(consumer);
  let statementNumber = 0;
  return {
    name: EXECUTION_PLANS,
    scope: 'database',
    description:
      'Execution plans of slow and sampled statements (generic, never ANALYZE), plan hash, plan changes',
    defaultIntervalMs: 60_000,
    unavailableReason() {
      if (settings.maxPerCycle === 0) return 'queryPerformance.plans.maxPerCycle is 0';
      return undefined;
    },
    async collect(ctx) {
      await loadSqlParser();
      const target = ctx.target.name;
      const database = ctx.database ?? ctx.session.facts.database;
      const cycle = ctx.startedAt.getTime();
      const plans: ExecutionPlan[] = [];
      const changes: PlanChange[] = [];
      const regressions = state.regressions(target);
      for (const candidate of candidates(state, ctx, database, sampled)) {
        if (ctx.signal.aborted) break;
        // Checked before the budget: a refused text costs no EXPLAIN slot.
        const verdict = explainableStatement(candidate.text);
        if (!verdict.ok) {
          ctx.logger.debug('statement not explained', {
            queryId: candidate.queryId,
            reason: verdict.reason,
          });
          continue;
        }
        if (!budget.take(target, database, candidate.queryId, cycle, Date.now())) continue;
        statementNumber = (statementNumber + 1) % 1_000_000;
        try {
          const explained = await explainStatement(
            ctx.session,
            candidate.text,
            `pgquerylens_plan_${statementNumber}`,
            settings.explainFunction,
          );
          const parents = await partitionParents(ctx, explained.plan);
          const hash = planHash(explained.plan, {
            normalizeCondition: (expr) => obfuscateSql(expr),
            parentOf: (relation) => parents.get(relation),
          });
          const capturedAt = new Date();
          plans.push({
            queryId: candidate.queryId,
            databaseName: database,
            planHash: hash,
            planId: hash,
            generic: true,
            capturedAt: capturedAt.toISOString(),
            nodes: flattenPlan(explained.plan),
            planJson: applyConditionPolicy(explained.plan, state.settings.queryText),
          });
          const change = regressions.observePlan(
            { databaseName: database, queryId: candidate.queryId },
            hash,
            true,
            capturedAt,
          );
          if (change !== undefined) changes.push(change);
          budget.done(target, database, candidate.queryId, Date.now(), 'ok');
        } catch (err) {
          const denied = (err as { code?: unknown }).code === '42501';
          budget.done(
            target,
            database,
            candidate.queryId,
            Date.now(),
            denied ? 'denied' : 'failed',
          );
          ctx.logger.debug('EXPLAIN failed; not retried until the failure expires', {
            queryId: candidate.queryId,
            err: redact(errorMessage(err)),
          });
        }
      }
      return { executionPlans: plans, planChanges: changes };
    },
  };
}

/** Slow queries of this database first (busiest first), then statements ASH saw running. */
function* candidates(
  state: QueryPerformanceState,
  ctx: CollectContext,
  database: string,
  sampled: SampledStatements,
): Generator<Candidate> {
  const target = ctx.target.name;
  const seen = new Set<string>();
  const usable = (queryId: string, text: string | undefined): text is string =>
    text !== undefined &&
    text !== '' &&
    text !== REDACTED_TEXT &&
    // A text at the cache's limit was cut: planning it would fail.
    text.length < TEXT_LIMIT &&
    !seen.has(queryId);
  for (const q of state.latestSlowQueries(target)) {
    if (q.databaseName !== database || !q.toplevel) continue;
    const text = state.texts.get(target, q.queryId);
    if (!usable(q.queryId, text)) continue;
    seen.add(q.queryId);
    yield { queryId: q.queryId, text };
  }
  for (const queryId of sampled.inDatabase(ctx, database)) {
    const text = state.texts.get(target, queryId);
    if (!usable(queryId, text)) continue;
    seen.add(queryId);
    yield { queryId, text };
  }
}

/**
 * Query ids ASH saw per database, busiest first, read once per cycle: the collector runs once
 * per database, and the first run must not take every tick from the others.
 */
class SampledStatements {
  readonly #consumer: AshConsumer;
  readonly #byTarget = new Map<string, { cycle: number; byDatabase: Map<string, string[]> }>();

  constructor(consumer: AshConsumer) {
    this.#consumer = consumer;
  }

  inDatabase(ctx: CollectContext, database: string): readonly string[] {
    const cycle = ctx.startedAt.getTime();
    let known = this.#byTarget.get(ctx.target.name);
    if (known === undefined || known.cycle !== cycle) {
      known = { cycle, byDatabase: this.#read(ctx) };
      this.#byTarget.set(ctx.target.name, known);
    }
    return known.byDatabase.get(database) ?? [];
  }

  #read(ctx: CollectContext): Map<string, string[]> {
    let ticks;
    try {
      ticks = this.#consumer.read(ctx).ticks;
    } catch {
      return new Map(); // no sampler on this target: slow queries are the only candidates
    }
    const counts = new Map<string, Map<string, number>>();
    for (const s of sessionsOf(ticks, new Set(ctx.databases))) {
      if (s.queryId === undefined || s.state !== 'active') continue;
      const db = s.databaseName ?? '';
      const perDb = counts.get(db) ?? new Map<string, number>();
      perDb.set(s.queryId, (perDb.get(s.queryId) ?? 0) + 1);
      counts.set(db, perDb);
    }
    return new Map(
      [...counts].map(([db, ids]) => [db, [...ids].sort((a, b) => b[1] - a[1]).map(([id]) => id)]),
    );
  }
}

/** Partition → parent for the relations a plan touches, so new partitions keep the hash. */
async function partitionParents(ctx: CollectContext, plan: unknown): Promise<Map<string, string>> {
  const relations = planRelations(plan).map((r) => r.relation);
  if (relations.length === 0) return new Map();
  const rows = await ctx.session.query<{ child: string; parent: string }>(
    `WITH RECURSIVE up AS (
       SELECT c.oid AS child_oid, c.relname AS child, i.inhparent AS parent_oid
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid
        WHERE c.relname = ANY($1::text[])
       UNION ALL
       SELECT up.child_oid, up.child, i.inhparent
         FROM up JOIN pg_catalog.pg_inherits i ON i.inhrelid = up.parent_oid)
     SELECT DISTINCT ON (up.child) up.child, p.relname AS parent
       FROM up JOIN pg_catalog.pg_class p ON p.oid = up.parent_oid
      WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = up.parent_oid)
      ORDER BY up.child`,
    [relations],
  );
  return new Map(rows.map((r) => [r.child, r.parent]));
}
