import type { BlockingSession } from '../../../core/model/blocking-session.js';
import {
  formatMs,
  inDatabase,
  plural,
  postgresEvent,
  type RoutedEvent,
} from './v4-event-values.js';

/** Distinct non-empty values, in first-seen order, comma-separated. */
function distinct(values: readonly (string | number | undefined)[]): string | undefined {
  const seen = [...new Set(values.filter((v) => v !== undefined && v !== ''))];
  return seen.length === 0 ? undefined : seen.join(',');
}

/**
 * One chain: every edge under one root blocker in the batch. The sampler may have read the tree
 * several times in the interval; blocked sessions and waits are gathered over all readings, the
 * root's state comes from the newest one.
 */
function chainEvent(edges: readonly BlockingSession[]): RoutedEvent | undefined {
  const newest = edges.reduce<BlockingSession | undefined>(
    (latest, e) => (latest === undefined || e.collectedAt > latest.collectedAt ? e : latest),
    undefined,
  );
  if (newest === undefined) return undefined;
  const first = edges.reduce(
    (earliest, e) => (e.collectedAt < earliest ? e.collectedAt : earliest),
    newest.collectedAt,
  );
  // The root's own statement and state are on the edges it blocks directly.
  const direct =
    edges.find(
      (e) =>
        e.collectedAt === newest.collectedAt &&
        e.depth === 1 &&
        e.blockingPid === e.rootBlockingPid,
    ) ?? newest;
  const root = newest.rootBlockingPid;
  const blocked = new Set(edges.map((e) => e.blockedPid));
  const depth = edges.reduce((max, e) => Math.max(max, e.depth), 0);
  const waits = edges.map((e) => e.blockedForMs).filter((ms): ms is number => ms !== undefined);
  const who =
    root === 0
      ? 'a prepared transaction'
      : `pid ${root}${direct.blockingState === undefined ? '' : ` (${direct.blockingState})`}`;
  const summary =
    `Blocking chain${inDatabase(direct.databaseName)}: ${who} blocks ` +
    `${plural(blocked.size, 'session')}, depth ${depth}` +
    (waits.length === 0 ? '' : `, longest wait ${formatMs(Math.max(...waits))}`);
  return {
    database: direct.databaseName,
    event: postgresEvent(summary, 'postgresql.blocking_chain', {
      'db.namespace': direct.databaseName,
      'db.query.text': direct.blockingQuery,
      'postgresql.query_id': direct.blockingQueryId,
      'postgresql.blocking.root_pid': root,
      'postgresql.blocking.root_state': direct.blockingState,
      'postgresql.blocking.root_query_start': direct.blockingQueryStart,
      'postgresql.blocking.root_transaction_age': direct.blockingXactAgeMs,
      'postgresql.blocking.blocked_count': blocked.size,
      'postgresql.blocking.max_depth': depth,
      'postgresql.blocking.pids': distinct(edges.map((e) => e.blockedPid)),
      'postgresql.blocking.blocked_queries': distinct(edges.map((e) => e.blockedQuery)),
      'postgresql.blocking.blocked_query_ids': distinct(edges.map((e) => e.blockedQueryId)),
      'postgresql.blocking.lock.mode': distinct(edges.map((e) => e.lockMode)),
      'postgresql.blocking.lock.type': distinct(edges.map((e) => e.lockType)),
      'postgresql.blocking.lock.relation': distinct(edges.map((e) => e.relation)),
      'postgresql.blocking.max_wait': waits.length === 0 ? undefined : Math.max(...waits),
      'postgresql.blocking.first_seen': first,
      'postgresql.collected_at': newest.collectedAt,
    }),
  };
}

/** One event per blocking chain (root blocker) in the batch, rather than one per edge. */
export function blockingChainEvents(edges: readonly BlockingSession[]): RoutedEvent[] {
  const chains = new Map<number, BlockingSession[]>();
  for (const edge of edges) {
    const chain = chains.get(edge.rootBlockingPid) ?? [];
    chain.push(edge);
    chains.set(edge.rootBlockingPid, chain);
  }
  return [...chains.values()].map(chainEvent).filter((e): e is RoutedEvent => e !== undefined);
}
