import type { OtlpLogsSettings } from '../../core/config/otlp-logs-settings.js';
import type { AshSample } from '../../core/model/ash-sample.js';
import type { BlockingSession } from '../../core/model/blocking-session.js';
import type { ExecutionPlan } from '../../core/model/execution-plan.js';
import type { IndividualQuery } from '../../core/model/individual-query.js';
import type { PlanChange } from '../../core/model/plan-change.js';
import type { SlowQuery } from '../../core/model/slow-query.js';
import type { UnifiedMetrics } from '../../core/model/unified-metrics.js';

/** A primitive attribute value, as OTLP log attributes carry them here. */
export type EventAttributeValue = string | number | boolean;

/** One event, ready to be emitted as an OTLP log record. */
export interface EventRecord {
  /** OTLP `EventName`, e.g. `db.server.top_query`. */
  readonly eventName: string;
  /** When the event happened (the model record's own time), ms since the epoch. */
  readonly timestampMs: number;
  /** WARN only for suspected plan regressions. */
  readonly severity: 'INFO' | 'WARN';
  /** One line for a human reading the log. */
  readonly body: string;
  /** Event attributes; the server's identity is on the resource, not here. */
  readonly attributes: Readonly<Record<string, EventAttributeValue>>;
}

/** Options of the mapping. */
export interface EventRecordOptions {
  /**
   * Longest attribute value the exporter keeps. The plan's JSON is shortened node by node to
   * fit, so a cut never leaves invalid JSON behind.
   */
  readonly maxValueLength?: number;
}

export const EVENT_NAMES = {
  topQuery: 'db.server.top_query',
  querySample: 'db.server.query_sample',
  plan: 'postgresql.query.plan',
  planChange: 'postgresql.plan.change',
  blocking: 'postgresql.blocking',
} as const;

const BODY_TEXT_LENGTH = 80;

type Attributes = Record<string, EventAttributeValue>;

/**
 * The batch's query-performance records as log events, in the postgresqlreceiver's shape where
 * it has one (`db.server.top_query`, `db.server.query_sample`), times in seconds. Query texts
 * are used as the collectors sanitized them; an empty text is left out, never sent empty.
 */
export function eventRecords(
  batch: UnifiedMetrics,
  events: OtlpLogsSettings['events'],
  options: EventRecordOptions = {},
): EventRecord[] {
  const fallbackMs = Date.parse(batch.metadata.finishedAt);
  const at = (iso: string | undefined): number => {
    const ms = iso === undefined ? Number.NaN : Date.parse(iso);
    return Number.isFinite(ms) ? ms : fallbackMs;
  };
  const out: EventRecord[] = [];
  if (events.topQueries) {
    for (const q of batch.slowQueries) out.push(topQuery(q, at(q.collectedAt)));
  }
  if (events.querySamples) {
    for (const q of batch.individualQueries) out.push(querySample(q, at(q.observedAt)));
  }
  if (events.ashSamples) {
    for (const s of batch.ashSamples) out.push(ashSample(s, at(s.sampledAt)));
  }
  if (events.plans) {
    for (const p of batch.executionPlans) {
      out.push(plan(p, at(p.capturedAt), options.maxValueLength));
    }
  }
  if (events.planChanges) {
    for (const c of batch.planChanges) out.push(planChange(c, at(c.detectedAt)));
  }
  if (events.blockingChains) {
    for (const b of batch.blockingSessions) out.push(blocking(b, at(b.collectedAt)));
  }
  return out;
}

function topQuery(q: SlowQuery, timestampMs: number): EventRecord {
  const attributes = attrs({
    'db.system.name': 'postgresql',
    'db.namespace': nonEmpty(q.databaseName),
    'db.query.text': nonEmpty(q.queryText),
    'db.operation.name': q.statementType === 'OTHER' ? undefined : q.statementType,
    'postgresql.queryid': q.queryId,
    'postgresql.rolname': nonEmpty(q.userName),
    'postgresql.calls': int(q.calls),
    'postgresql.rows': int(q.rows),
    'postgresql.shared_blks_hit': int(q.sharedBlksHit),
    'postgresql.shared_blks_read': int(q.sharedBlksRead),
    'postgresql.shared_blks_dirtied': int(q.sharedBlksDirtied),
    'postgresql.shared_blks_written': int(q.sharedBlksWritten),
    'postgresql.temp_blks_read': int(q.tempBlksRead),
    'postgresql.temp_blks_written': int(q.tempBlksWritten),
    'postgresql.total_exec_time': seconds(q.totalExecTimeMs),
    'postgresql.total_plan_time': seconds(q.totalPlanTimeMs),
    'postgresql.mean_exec_time': seconds(q.meanExecTimeMs),
    'postgresql.stddev_exec_time': seconds(q.stddevExecTimeMs),
    'postgresql.blk_read_time': seconds(q.blkReadTimeMs),
    'postgresql.blk_write_time': seconds(q.blkWriteTimeMs),
    'postgresql.wal_records': int(q.walRecords),
    'postgresql.wal_bytes': int(q.walBytes),
    'postgresql.jit_time': seconds(q.jitTimeMs),
    'postgresql.toplevel': q.toplevel,
    'postgresql.interval': q.intervalSeconds,
  });
  const body = `${textOr(q.queryText, `query ${q.queryId}`)}: ${plural(q.calls, 'call')}, ${duration(q.totalExecTimeMs)} total, ${duration(q.meanExecTimeMs)} mean`;
  return { eventName: EVENT_NAMES.topQuery, timestampMs, severity: 'INFO', body, attributes };
}

function querySample(q: IndividualQuery, timestampMs: number): EventRecord {
  const attributes = attrs({
    'db.system.name': 'postgresql',
    'db.namespace': nonEmpty(q.databaseName),
    'db.query.text': nonEmpty(q.queryText),
    'postgresql.query_id': q.queryId,
    'postgresql.pid': q.pid,
    'postgresql.state': nonEmpty(q.state),
    // Milliseconds here, seconds in top_query: the receiver's two events differ so (otel.md §2).
    'postgresql.total_exec_time': q.execTimeMs,
    'postgresql.cpu_time': q.cpuTimeMs,
    'postgresql.mean_exec_time': q.avgExecTimeMs,
    'postgresql.plan_id': nonEmpty(q.planId),
    'postgresql.query_text.truncated': q.queryTruncated === true ? true : undefined,
    'postgresql.sample.source': q.source,
    'postgresql.sample.kind': 'execution',
  });
  const ran = q.execTimeMs === undefined ? 'running' : `ran ${duration(q.execTimeMs)}`;
  const pid = q.pid === undefined ? '' : ` (pid ${q.pid})`;
  const body = `${textOr(q.queryText, `query ${q.queryId}`)}: ${ran}${pid}`;
  return { eventName: EVENT_NAMES.querySample, timestampMs, severity: 'INFO', body, attributes };
}

function ashSample(s: AshSample, timestampMs: number): EventRecord {
  const attributes = attrs({
    'db.system.name': 'postgresql',
    'db.namespace': nonEmpty(s.databaseName),
    'db.query.text': nonEmpty(s.query),
    'user.name': nonEmpty(s.userName),
    // pg_stat_activity's inet may carry a host mask (`10.0.0.7/32`); semconv wants the address.
    'network.peer.address': nonEmpty(s.clientAddr?.replace(/\/(32|128)$/, '')),
    'postgresql.pid': s.pid,
    'postgresql.state': nonEmpty(s.state),
    'postgresql.query_id': nonEmpty(s.queryId),
    'postgresql.application_name': nonEmpty(s.applicationName),
    'postgresql.backend_type': nonEmpty(s.backendType),
    'postgresql.wait_event': nonEmpty(s.waitEvent),
    'postgresql.wait_event_type': nonEmpty(s.waitEventType),
    'postgresql.leader_pid': s.leaderPid,
    'postgresql.total_exec_time': elapsedMs(s),
    'postgresql.query_text.truncated': s.queryTruncated === true ? true : undefined,
    'postgresql.sample.source': 'ash',
    'postgresql.sample.kind': 'session',
  });
  const wait = s.waitEventType === 'CPU' ? 'on CPU' : `${s.waitEventType}:${s.waitEvent}`;
  const text = s.query === undefined || s.query === '' ? '' : `: ${oneLine(s.query)}`;
  const body = `pid ${s.pid} ${s.state}, ${wait}${text}`;
  return { eventName: EVENT_NAMES.querySample, timestampMs, severity: 'INFO', body, attributes };
}

/** How long the session's statement had run when sampled (or ran, once it went idle). */
function elapsedMs(s: AshSample): number | undefined {
  if (s.queryStart === undefined) return undefined;
  const start = Date.parse(s.queryStart);
  const end = Date.parse(s.state === 'active' ? s.sampledAt : (s.stateChange ?? ''));
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? end - start : undefined;
}

function plan(p: ExecutionPlan, timestampMs: number, maxValueLength?: number): EventRecord {
  // planJson may hold the literals of a real call; the flattened nodes hold none.
  const nodes = p.nodes.map((n) =>
    stripUndefined({
      id: n.levelId,
      parent: n.parentLevelId,
      node_type: n.nodeType,
      relation: n.relationName,
      alias: n.alias,
      index: n.indexName,
      scan_direction: n.scanDirection,
      parallel_aware: n.parallelAware || undefined,
      startup_cost: n.startupCost,
      total_cost: n.totalCost,
      rows: n.planRows,
      width: n.planWidth,
    }),
  );
  const { json, truncated } = fittingJson(nodes, maxValueLength);
  const attributes = attrs({
    'db.system.name': 'postgresql',
    'db.namespace': nonEmpty(p.databaseName),
    'postgresql.queryid': p.queryId,
    'postgresql.plan.hash': p.planHash,
    'postgresql.plan_id': p.planId,
    'postgresql.plan.generic': p.generic,
    'postgresql.plan.node_count': p.nodes.length,
    'postgresql.plan.total_cost': p.nodes[0]?.totalCost,
    'postgresql.query_plan': json,
    'postgresql.query_plan.truncated': truncated ? true : undefined,
  });
  const root = p.nodes[0];
  const shape =
    root === undefined
      ? 'empty'
      : `${root.nodeType}${root.relationName === undefined ? '' : ` on ${root.relationName}`}`;
  const body = `plan ${p.planHash} of query ${p.queryId}: ${shape}, ${p.nodes.length} nodes`;
  return { eventName: EVENT_NAMES.plan, timestampMs, severity: 'INFO', body, attributes };
}

/** The nodes' JSON, dropping nodes from the end until it fits the attribute limit. */
function fittingJson(
  nodes: readonly object[],
  maxLength: number | undefined,
): { json: string; truncated: boolean } {
  let kept = nodes.length;
  let json = JSON.stringify(nodes);
  while (maxLength !== undefined && json.length > maxLength && kept > 0) {
    // Shrink proportionally first, then one by one, so a huge plan costs few stringify calls.
    const estimate = Math.floor((kept * maxLength) / json.length);
    kept = Math.max(0, Math.min(kept - 1, estimate));
    json = JSON.stringify(nodes.slice(0, kept));
  }
  return { json, truncated: kept < nodes.length };
}

function planChange(c: PlanChange, timestampMs: number): EventRecord {
  const regression = c.kind === 'suspected_regression';
  const attributes = attrs({
    'db.system.name': 'postgresql',
    'db.namespace': nonEmpty(c.databaseName),
    'postgresql.queryid': c.queryId,
    'postgresql.plan.change.kind': c.kind,
    'postgresql.plan.previous_hash': nonEmpty(c.previousPlanHash),
    'postgresql.plan.hash': c.newPlanHash,
    'postgresql.plan.previous_mean_exec_time': seconds(c.previousMeanMs),
    'postgresql.plan.mean_exec_time': seconds(c.newMeanMs),
    'postgresql.plan.extra_time_per_hour': seconds(c.extraTimeMsPerHour),
    'postgresql.plan.calls': int(c.newPlanCalls),
    'postgresql.plan.generic': c.generic,
  });
  const from = c.previousPlanHash ?? 'none';
  let body = `${regression ? 'suspected plan regression' : 'new plan'} of query ${c.queryId}: ${from} → ${c.newPlanHash}`;
  if (c.previousMeanMs !== undefined && c.newMeanMs !== undefined) {
    body += `, mean ${duration(c.previousMeanMs)} → ${duration(c.newMeanMs)}`;
  }
  if (c.extraTimeMsPerHour !== undefined) body += `, +${duration(c.extraTimeMsPerHour)} per hour`;
  return {
    eventName: EVENT_NAMES.planChange,
    timestampMs,
    severity: regression ? 'WARN' : 'INFO',
    body,
    attributes,
  };
}

function blocking(b: BlockingSession, timestampMs: number): EventRecord {
  const attributes = attrs({
    'db.system.name': 'postgresql',
    'db.namespace': nonEmpty(b.databaseName),
    'db.query.text': nonEmpty(b.blockedQuery),
    'postgresql.blocked.pid': b.blockedPid,
    'postgresql.blocked.query_id': nonEmpty(b.blockedQueryId),
    'postgresql.blocked.query_start': nonEmpty(b.blockedQueryStart),
    'postgresql.blocked.wait_time': seconds(b.blockedForMs),
    'postgresql.blocking.pid': b.blockingPid,
    'postgresql.blocking.root_pid': b.rootBlockingPid,
    'postgresql.blocking.depth': b.depth,
    'postgresql.blocking.query.text': nonEmpty(b.blockingQuery),
    'postgresql.blocking.query_id': nonEmpty(b.blockingQueryId),
    'postgresql.blocking.query_start': nonEmpty(b.blockingQueryStart),
    'postgresql.blocking.state': nonEmpty(b.blockingState),
    'postgresql.blocking.transaction_age': seconds(b.blockingXactAgeMs),
    'postgresql.lock.type': nonEmpty(b.lockType),
    'postgresql.lock.mode': nonEmpty(b.lockMode),
    'postgresql.lock.relation': nonEmpty(b.relation),
  });
  const waited = b.blockedForMs === undefined ? 'waits' : `waits ${duration(b.blockedForMs)}`;
  const lock = [b.lockType, b.lockMode].filter((v) => v !== undefined && v !== '').join(' ');
  const on = lock === '' ? 'on a lock' : `on a ${lock} lock`;
  const holder =
    b.blockingPid === 0
      ? 'a prepared transaction'
      : `pid ${b.blockingPid}${b.blockingState === undefined ? '' : ` (${b.blockingState})`}`;
  const body = `pid ${b.blockedPid} ${waited} ${on} held by ${holder}`;
  return { eventName: EVENT_NAMES.blocking, timestampMs, severity: 'INFO', body, attributes };
}

/** Drops undefined (and non-finite numbers) so no attribute is ever sent empty. */
function attrs(raw: Record<string, EventAttributeValue | undefined>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (typeof value === 'number' && !Number.isFinite(value)) continue;
    out[key] = value;
  }
  return out;
}

function stripUndefined(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Counters arrive as numbers; a fractional one (an average) must not pose as a count. */
function int(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value);
}

/** ms → s; rounded to the microsecond so binary noise does not leak into the value. */
function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 1000) / 1e6;
}

function duration(ms: number): string {
  if (Math.abs(ms) < 1000) return `${Number(ms.toFixed(ms < 10 ? 2 : 1))} ms`;
  return `${Number((ms / 1000).toFixed(2))} s`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= BODY_TEXT_LENGTH) return flat;
  // By code point, so a cut never splits a surrogate pair.
  return `${[...flat].slice(0, BODY_TEXT_LENGTH - 1).join('')}…`;
}

function textOr(text: string | undefined, fallback: string): string {
  const flat = text === undefined ? '' : oneLine(text);
  return flat === '' ? fallback : flat;
}
