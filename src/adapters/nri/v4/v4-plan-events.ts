import type { ExecutionPlan, PlanNode } from '../../../core/model/execution-plan.js';
import type { PlanChange } from '../../../core/model/plan-change.js';
import {
  capText,
  formatMs,
  inDatabase,
  postgresEvent,
  type RoutedEvent,
} from './v4-event-values.js';

/** Characters of the node summary repeated in an event's summary line. */
const SUMMARY_PLAN_CHARS = 300;

/** `Index Scan on big using big_a`. */
function nodeLabel(node: PlanNode): string {
  const on = node.relationName === undefined ? '' : ` on ${node.relationName}`;
  const using = node.indexName === undefined ? '' : ` using ${node.indexName}`;
  return `${node.nodeType}${on}${using}`;
}

/**
 * The plan's shape in one line, children in parentheses:
 * `Hash Join(Seq Scan on a, Hash(Index Scan on b using b_pkey))`.
 */
export function compactPlan(nodes: readonly PlanNode[]): string {
  const children = new Map<number | undefined, PlanNode[]>();
  for (const node of nodes) {
    const siblings = children.get(node.parentLevelId) ?? [];
    siblings.push(node);
    children.set(node.parentLevelId, siblings);
  }
  const render = (node: PlanNode): string => {
    const kids = children.get(node.levelId) ?? [];
    return kids.length === 0
      ? nodeLabel(node)
      : `${nodeLabel(node)}(${kids.map(render).join(', ')})`;
  };
  return (children.get(undefined) ?? []).map(render).join('; ');
}

/** Distinct names, comma-separated. */
function names(values: readonly (string | undefined)[]): string | undefined {
  const seen = [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))];
  return seen.length === 0 ? undefined : seen.join(',');
}

/** One captured plan, as its hash and a compact node summary (not one event per node). */
export function executionPlanEvent(plan: ExecutionPlan, queryText?: string): RoutedEvent {
  const shape = compactPlan(plan.nodes);
  const root = plan.nodes.find((n) => n.parentLevelId === undefined);
  return {
    database: plan.databaseName,
    event: postgresEvent(
      `Execution plan ${plan.planHash} for query ${plan.queryId}${inDatabase(plan.databaseName)}: ${capText(shape, SUMMARY_PLAN_CHARS)}`,
      'postgresql.execution_plan',
      {
        'db.namespace': plan.databaseName,
        'db.query.text': queryText,
        'postgresql.query_id': plan.queryId,
        'postgresql.plan.hash': plan.planHash,
        'postgresql.plan.id': plan.planId,
        'postgresql.plan.generic': plan.generic,
        'postgresql.plan.node_count': plan.nodes.length,
        'postgresql.plan.nodes': shape,
        'postgresql.plan.relations': names(plan.nodes.map((n) => n.relationName)),
        'postgresql.plan.indexes': names(plan.nodes.map((n) => n.indexName)),
        'postgresql.plan.startup_cost': root?.startupCost,
        'postgresql.plan.total_cost': root?.totalCost,
        'postgresql.plan.rows': root?.planRows,
        'postgresql.collected_at': plan.capturedAt,
      },
    ),
  };
}

/** A statement's new plan, or a slowdown proven after one. */
export function planChangeEvent(change: PlanChange, queryText?: string): RoutedEvent {
  const where = `query ${change.queryId}${inDatabase(change.databaseName)}`;
  const summary =
    change.kind === 'suspected_regression'
      ? `Suspected plan regression for ${where}: ${formatMs(change.previousMeanMs)} → ${formatMs(change.newMeanMs)} per call`
      : `New plan for ${where}: ${change.previousPlanHash ?? 'none'} → ${change.newPlanHash}`;
  return {
    database: change.databaseName,
    event: postgresEvent(summary, 'postgresql.plan_change', {
      'db.namespace': change.databaseName,
      'db.query.text': queryText,
      'postgresql.query_id': change.queryId,
      'postgresql.plan_change.kind': change.kind,
      'postgresql.plan.previous_hash': change.previousPlanHash,
      'postgresql.plan.hash': change.newPlanHash,
      'postgresql.plan.previous_mean_exec_time': change.previousMeanMs,
      'postgresql.plan.mean_exec_time': change.newMeanMs,
      'postgresql.plan.extra_time_per_hour': change.extraTimeMsPerHour,
      'postgresql.plan.calls': change.newPlanCalls,
      'postgresql.plan.generic': change.generic,
      'postgresql.collected_at': change.detectedAt,
    }),
  };
}
