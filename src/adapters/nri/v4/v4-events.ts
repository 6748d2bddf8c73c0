import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import { blockingChainEvents } from './v4-blocking-events.js';
import type { RoutedEvent } from './v4-event-values.js';
import { executionPlanEvent, planChangeEvent } from './v4-plan-events.js';
import { querySampleEvent, topQueryEvent, waitEventEvent } from './v4-query-events.js';

/** Statement texts the batch knows, by database and query id (plans carry none). */
function knownTexts(batch: UnifiedMetrics): Map<string, string> {
  const texts = new Map<string, string>();
  const add = (database: string, queryId: string | undefined, text: string | undefined): void => {
    if (queryId === undefined || text === undefined || text === '') return;
    const key = `${database}\u0000${queryId}`;
    if (!texts.has(key)) texts.set(key, text);
  };
  for (const q of batch.slowQueries) add(q.databaseName, q.queryId, q.queryText);
  for (const q of batch.individualQueries) add(q.databaseName, q.queryId, q.queryText);
  for (const w of batch.waitEvents) add(w.databaseName, w.queryId, w.queryText);
  return texts;
}

/**
 * The batch's query-performance records as protocol 4 events: top queries, query samples, wait
 * events, blocking chains (grouped by root blocker), execution plans (one per plan) and plan
 * changes, in that order.
 */
export function queryPerformanceEvents(batch: UnifiedMetrics): RoutedEvent[] {
  const texts = knownTexts(batch);
  const textOf = (database: string, queryId: string): string | undefined =>
    texts.get(`${database}\u0000${queryId}`);
  return [
    ...batch.slowQueries.map(topQueryEvent),
    ...batch.individualQueries.map(querySampleEvent),
    ...batch.waitEvents.map(waitEventEvent),
    ...blockingChainEvents(batch.blockingSessions),
    ...batch.executionPlans.map((p) => executionPlanEvent(p, textOf(p.databaseName, p.queryId))),
    ...batch.planChanges.map((c) => planChangeEvent(c, textOf(c.databaseName, c.queryId))),
  ];
}
