import type { ExecutionPlan, PlanNode } from '../../../core/model/execution-plan.js';
import type { SlowQuery } from '../../../core/model/slow-query.js';
import { V3_QPM_EVENT_TYPES } from './v3-qpm-event-types.js';
import { statementKey } from './v3-qpm-statements.js';
import { qpmText } from './v3-qpm-values.js';
import type { V3MetricSet } from './v3-types.js';

/**
 * `PostgresExecutionPlanMetrics`: one set per plan node, in pre-order, for at most `limit`
 * plans; a plan is never cut, so its level ids stay a whole tree. Plans of the reported slow
 * queries come first, in their rank, then the others in batch order; a plan captured twice
 * in one batch (same statement, same plan id) is reported once.
 *
 * Every field is always present, as nri's struct has no pointers: a missing text is `""`
 * and a missing number 0. `rows_removed_by_filter` is 0 since we never run ANALYZE.
 */
export function executionPlanSets(
  plans: readonly ExecutionPlan[],
  reported: readonly SlowQuery[],
  limit: number,
): V3MetricSet[] {
  const unique = new Map<string, ExecutionPlan>();
  for (const p of plans) {
    if (p.nodes.length === 0) continue;
    const key = `${statementKey(p.databaseName, p.queryId)}\u0000${p.planId}`;
    // Re-inserted, so the latest capture keeps its place at the end of the batch order.
    unique.delete(key);
    unique.set(key, p);
  }
  const rank = new Map<string, number>();
  reported.forEach((q, i) => {
    const key = statementKey(q.databaseName, q.queryId);
    if (!rank.has(key)) rank.set(key, i);
  });
  const rankOf = (p: ExecutionPlan): number =>
    rank.get(statementKey(p.databaseName, p.queryId)) ?? Number.POSITIVE_INFINITY;
  // Array.prototype.sort is stable: ties (unreported statements) keep batch order.
  const chosen = [...unique.values()]
    .sort((a, b) => rankOf(a) - rankOf(b))
    .slice(0, Math.max(0, limit));
  return chosen.flatMap((p) =>
    [...p.nodes].sort((a, b) => a.levelId - b.levelId).map((n) => nodeSet(p, n)),
  );
}

function nodeSet(plan: ExecutionPlan, node: PlanNode): V3MetricSet {
  return {
    event_type: V3_QPM_EVENT_TYPES.executionPlanMetrics,
    node_type: qpmText(node.nodeType),
    parallel_aware: node.parallelAware ? 1 : 0,
    async_capable: node.asyncCapable ? 1 : 0,
    scan_direction: qpmText(node.scanDirection ?? ''),
    index_name: qpmText(node.indexName ?? ''),
    relation_name: qpmText(node.relationName ?? ''),
    alias: qpmText(node.alias ?? ''),
    startup_cost: finite(node.startupCost),
    total_cost: finite(node.totalCost),
    plan_rows: Math.trunc(finite(node.planRows)),
    plan_width: Math.trunc(finite(node.planWidth)),
    rows_removed_by_filter: Math.trunc(finite(node.rowsRemovedByFilter ?? 0)),
    database_name: qpmText(plan.databaseName),
    query_id: qpmText(plan.queryId),
    plan_id: qpmText(plan.planId),
    level_id: Math.trunc(finite(node.levelId)),
  };
}

/** A Go float64 field left unset is 0. */
function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}
