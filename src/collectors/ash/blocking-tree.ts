import type { BlockingSession } from '../../core/model/blocking-session.js';
import { opt } from '../optional-field.js';

/** One row of the blocking query, as read. */
export interface BlockingRow {
  readonly observed_at: string;
  readonly blocked_pid: number;
  readonly datname: string | null;
  readonly blocked_query_id: string | null;
  readonly blocked_query: string | null;
  readonly blocked_query_start: string | null;
  readonly blocking_pid: number;
  readonly blocking_query_id: string | null;
  readonly blocking_query: string | null;
  readonly blocking_query_start: string | null;
  readonly blocking_state: string | null;
  readonly blocking_xact_start: string | null;
  readonly prepared_gid: string | null;
  readonly prepared_at: string | null;
  readonly locktype: string | null;
  readonly mode: string | null;
  readonly relation: string | null;
  readonly wait_start: string | null;
}

/**
 * Turns blocked → blocker rows into edges with their chain: the root blocker (a session that
 * blocks but waits on nobody) and the depth below it. A parallel worker is reported as its
 * leader, so duplicate edges collapse to one. A cycle (a deadlock the server has not broken
 * yet) has no root; its sessions get the lowest pid of the cycle as root.
 */
export function blockingTree(
  rows: readonly BlockingRow[],
  text: (raw: string | null) => string,
): BlockingSession[] {
  const edges = new Map<string, BlockingRow>();
  const blockersOf = new Map<number, number[]>();
  for (const row of rows) {
    const key = `${row.blocked_pid}>${row.blocking_pid}`;
    if (edges.has(key) || row.blocked_pid === row.blocking_pid) continue;
    edges.set(key, row);
    const list = blockersOf.get(row.blocked_pid) ?? [];
    list.push(row.blocking_pid);
    blockersOf.set(row.blocked_pid, list);
  }
  const chain = new Map<number, { root: number; depth: number }>();
  const resolve = (pid: number, path: Set<number>): { root: number; depth: number } => {
    const known = chain.get(pid);
    if (known !== undefined) return known;
    const blockers = blockersOf.get(pid);
    if (blockers === undefined || blockers.length === 0) return { root: pid, depth: 0 };
    if (path.has(pid)) {
      return { root: Math.min(...path), depth: 0 };
    }
    path.add(pid);
    // The deepest chain through any blocker: the session waits until all of them let go.
    let best = { root: pid, depth: -1 };
    for (const blocker of [...blockers].sort((a, b) => a - b)) {
      const up = resolve(blocker, path);
      if (up.depth + 1 > best.depth) best = { root: up.root, depth: up.depth + 1 };
    }
    path.delete(pid);
    chain.set(pid, best);
    return best;
  };

  const out: BlockingSession[] = [];
  for (const row of edges.values()) {
    // Per edge, through this blocker: its own chain plus one.
    const up = resolve(row.blocking_pid, new Set([row.blocked_pid]));
    const root = up.root;
    const depth = up.depth + 1;
    const observed = Date.parse(row.observed_at);
    const blockedFor =
      row.wait_start === null ? undefined : Math.max(0, observed - Date.parse(row.wait_start));
    const xactStart = row.blocking_xact_start ?? row.prepared_at;
    const xactAge = xactStart === null ? undefined : Math.max(0, observed - Date.parse(xactStart));
    const preparedText =
      row.blocking_pid === 0
        ? `<prepared transaction${row.prepared_gid === null ? '' : ` ${row.prepared_gid}`}>`
        : undefined;
    out.push({
      databaseName: row.datname ?? '',
      blockedPid: row.blocked_pid,
      blockedQuery: text(row.blocked_query),
      ...opt('blockedQueryId', nonZero(row.blocked_query_id)),
      ...opt('blockedQueryStart', row.blocked_query_start),
      blockingPid: row.blocking_pid,
      blockingQuery: preparedText ?? text(row.blocking_query),
      ...opt('blockingQueryId', nonZero(row.blocking_query_id)),
      ...opt('blockingQueryStart', row.blocking_query_start),
      ...opt('blockingState', row.blocking_pid === 0 ? 'prepared' : row.blocking_state),
      ...opt('blockingXactAgeMs', xactAge),
      ...opt('lockType', row.locktype),
      ...opt('lockMode', row.mode),
      ...opt('relation', row.relation),
      ...opt('blockedForMs', blockedFor),
      rootBlockingPid: root,
      depth,
      collectedAt: new Date(observed).toISOString(),
    });
  }
  return out.sort((a, b) => a.depth - b.depth || a.blockedPid - b.blockedPid);
}

/** query_id 0 means "not computed", which identifies nothing. */
function nonZero(id: string | null): string | null {
  return id === '0' ? null : id;
}
