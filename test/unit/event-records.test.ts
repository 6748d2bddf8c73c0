import { describe, expect, it } from 'vitest';
import { eventRecords, type EventRecord } from '../../src/adapters/otlp/event-records.js';
import { OTLP_LOGS_DEFAULTS } from '../../src/core/config/otlp-logs-settings.js';
import type { AshSample } from '../../src/core/model/ash-sample.js';
import type { BlockingSession } from '../../src/core/model/blocking-session.js';
import type { ExecutionPlan, PlanNode } from '../../src/core/model/execution-plan.js';
import type { IndividualQuery } from '../../src/core/model/individual-query.js';
import type { PlanChange } from '../../src/core/model/plan-change.js';
import type { SlowQuery } from '../../src/core/model/slow-query.js';
import {
  emptyParts,
  UNIFIED_METRICS_SCHEMA_VERSION,
  type MetricParts,
  type UnifiedMetrics,
} from '../../src/core/model/unified-metrics.js';

const ALL = { ...OTLP_LOGS_DEFAULTS.events, ashSamples: true };

function batch(parts: Partial<MetricParts>): UnifiedMetrics {
  return {
    schemaVersion: UNIFIED_METRICS_SCHEMA_VERSION,
    target: { name: 't', host: 'db1', port: 5432, labels: { env: 'x' } },
    server: {},
    metadata: {
      collectorVersion: 'test',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      collectors: [],
    },
    ...emptyParts(),
    ...parts,
  };
}

function only(records: EventRecord[]): EventRecord {
  expect(records).toHaveLength(1);
  return records[0]!;
}

const slow: SlowQuery = {
  queryId: '-4711',
  queryText: 'SELECT note FROM notes WHERE id = $1',
  databaseName: 'app',
  userName: 'alice',
  statementType: 'SELECT',
  toplevel: true,
  intervalSeconds: 30,
  calls: 12,
  totalExecTimeMs: 340,
  meanExecTimeMs: 28.333,
  totalPlanTimeMs: 1.5,
  rows: 12,
  avgDiskReads: 0.5,
  avgDiskWrites: 0,
  sharedBlksHit: 40,
  sharedBlksRead: 6,
  sharedBlksDirtied: 0,
  sharedBlksWritten: 0,
  collectedAt: '2026-01-01T00:00:00.500Z',
};

describe('event records', () => {
  it('maps a slow query to db.server.top_query, times in seconds', () => {
    const r = only(eventRecords(batch({ slowQueries: [slow] }), ALL));
    expect(r.eventName).toBe('db.server.top_query');
    expect(r.timestampMs).toBe(Date.parse('2026-01-01T00:00:00.500Z'));
    expect(r.severity).toBe('INFO');
    expect(r.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'app',
      'db.query.text': 'SELECT note FROM notes WHERE id = $1',
      'db.operation.name': 'SELECT',
      'postgresql.queryid': '-4711',
      'postgresql.rolname': 'alice',
      'postgresql.calls': 12,
      'postgresql.rows': 12,
      'postgresql.shared_blks_hit': 40,
      'postgresql.shared_blks_read': 6,
      'postgresql.shared_blks_dirtied': 0,
      'postgresql.shared_blks_written': 0,
      'postgresql.total_exec_time': 0.34,
      'postgresql.total_plan_time': 0.0015,
      'postgresql.mean_exec_time': 0.028333,
      'postgresql.toplevel': true,
      'postgresql.interval': 30,
    });
    expect(r.body).toBe(
      'SELECT note FROM notes WHERE id = $1: 12 calls, 340 ms total, 28.3 ms mean',
    );
  });

  it('leaves out what is unknown: OTHER operation, no role, empty text, absent counters', () => {
    const bare: SlowQuery = {
      ...slow,
      statementType: 'OTHER',
      queryText: '',
      totalPlanTimeMs: undefined,
      sharedBlksHit: undefined,
      sharedBlksRead: undefined,
      sharedBlksDirtied: undefined,
      sharedBlksWritten: undefined,
    };
    delete (bare as { userName?: string }).userName;
    const r = only(eventRecords(batch({ slowQueries: [bare] }), ALL));
    for (const key of [
      'db.operation.name',
      'db.query.text',
      'postgresql.rolname',
      'postgresql.total_plan_time',
      'postgresql.shared_blks_hit',
    ]) {
      expect(r.attributes, key).not.toHaveProperty(key);
    }
    expect(Object.values(r.attributes)).not.toContain(undefined);
    expect(r.body).toMatch(/^query -4711: 12 calls/);
  });

  it('maps individual executions and raw ASH samples to db.server.query_sample', () => {
    const execution: IndividualQuery = {
      queryId: '99',
      queryText: 'SELECT pg_sleep(?)',
      databaseName: 'app',
      pid: 321,
      state: 'active',
      execTimeMs: 1520,
      cpuTimeMs: 12.5,
      avgExecTimeMs: 800,
      planId: 'abcd',
      source: 'ash',
      observedAt: '2026-01-01T00:00:00.250Z',
    };
    const sample: AshSample = {
      sampledAt: '2026-01-01T00:00:10.000Z',
      sampleIntervalMs: 1000,
      pid: 322,
      databaseName: 'app',
      userName: 'bob',
      applicationName: 'psql',
      clientAddr: '10.0.0.7/32',
      backendType: 'client backend',
      state: 'active',
      waitEventType: 'Lock',
      waitEvent: 'transactionid',
      queryId: '98',
      queryStart: '2026-01-01T00:00:07.500Z',
      query: 'UPDATE notes SET note = ? WHERE id = ?',
    };
    const [exec, ash] = eventRecords(
      batch({ individualQueries: [execution], ashSamples: [sample] }),
      ALL,
    );
    expect(exec?.eventName).toBe('db.server.query_sample');
    expect(exec?.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'app',
      'db.query.text': 'SELECT pg_sleep(?)',
      'postgresql.query_id': '99',
      'postgresql.pid': 321,
      'postgresql.state': 'active',
      'postgresql.total_exec_time': 1520,
      'postgresql.cpu_time': 12.5,
      'postgresql.mean_exec_time': 800,
      'postgresql.plan_id': 'abcd',
      'postgresql.sample.source': 'ash',
      'postgresql.sample.kind': 'execution',
    });
    expect(exec?.timestampMs).toBe(Date.parse(execution.observedAt));
    expect(ash?.eventName).toBe('db.server.query_sample');
    expect(ash?.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'app',
      'db.query.text': 'UPDATE notes SET note = ? WHERE id = ?',
      'user.name': 'bob',
      'network.peer.address': '10.0.0.7',
      'postgresql.pid': 322,
      'postgresql.state': 'active',
      'postgresql.query_id': '98',
      'postgresql.application_name': 'psql',
      'postgresql.backend_type': 'client backend',
      'postgresql.wait_event': 'transactionid',
      'postgresql.wait_event_type': 'Lock',
      'postgresql.total_exec_time': 2500,
      'postgresql.sample.source': 'ash',
      'postgresql.sample.kind': 'session',
    });
    expect(ash?.body).toBe(
      'pid 322 active, Lock:transactionid: UPDATE notes SET note = ? WHERE id = ?',
    );
  });

  it('sends plans as flattened nodes, never the raw EXPLAIN document, and cuts them whole', () => {
    const node = (levelId: number, extra: Partial<PlanNode> = {}): PlanNode => ({
      levelId,
      ...(levelId === 0 ? {} : { parentLevelId: 0 }),
      nodeType: 'Seq Scan',
      parallelAware: false,
      asyncCapable: false,
      startupCost: 0,
      totalCost: 35.5,
      planRows: 2550,
      planWidth: 4,
      ...extra,
    });
    const p: ExecutionPlan = {
      queryId: '7',
      databaseName: 'app',
      planHash: '00ff00ff00ff00ff',
      planId: '00ff00ff00ff00ff',
      generic: true,
      capturedAt: '2026-01-01T00:00:00.000Z',
      nodes: [
        node(0, { nodeType: 'Hash Join', totalCost: 99.25 }),
        node(1, { relationName: 'notes', alias: 'n' }),
        node(2, { nodeType: 'Index Scan', relationName: 'users', indexName: 'users_pkey' }),
      ],
      planJson: [{ Plan: { Filter: "(note = 'secret-literal')" } }],
    };
    const r = only(eventRecords(batch({ executionPlans: [p] }), ALL));
    expect(r.eventName).toBe('postgresql.query.plan');
    expect(r.attributes).toMatchObject({
      'postgresql.queryid': '7',
      'postgresql.plan.hash': '00ff00ff00ff00ff',
      'postgresql.plan_id': '00ff00ff00ff00ff',
      'postgresql.plan.generic': true,
      'postgresql.plan.node_count': 3,
    });
    expect(JSON.stringify(r)).not.toContain('secret-literal');
    const nodes = JSON.parse(String(r.attributes['postgresql.query_plan'])) as unknown[];
    expect(nodes).toEqual([
      { id: 0, node_type: 'Hash Join', startup_cost: 0, total_cost: 99.25, rows: 2550, width: 4 },
      {
        id: 1,
        parent: 0,
        node_type: 'Seq Scan',
        relation: 'notes',
        alias: 'n',
        startup_cost: 0,
        total_cost: 35.5,
        rows: 2550,
        width: 4,
      },
      {
        id: 2,
        parent: 0,
        node_type: 'Index Scan',
        relation: 'users',
        index: 'users_pkey',
        startup_cost: 0,
        total_cost: 35.5,
        rows: 2550,
        width: 4,
      },
    ]);
    expect(r.attributes).not.toHaveProperty('postgresql.query_plan.truncated');

    const limit = 200;
    const cut = only(eventRecords(batch({ executionPlans: [p] }), ALL, { maxValueLength: limit }));
    const json = String(cut.attributes['postgresql.query_plan']);
    expect(json.length).toBeLessThanOrEqual(limit);
    expect((JSON.parse(json) as unknown[]).length).toBeLessThan(3);
    expect(cut.attributes['postgresql.query_plan.truncated']).toBe(true);
  });

  it('maps plan changes, a suspected regression as WARN', () => {
    const change: PlanChange = {
      queryId: '7',
      databaseName: 'app',
      previousPlanHash: 'aaaa',
      newPlanHash: 'bbbb',
      kind: 'suspected_regression',
      previousMeanMs: 2,
      newMeanMs: 35,
      extraTimeMsPerHour: 120_000,
      newPlanCalls: 40,
      generic: true,
      detectedAt: '2026-01-01T00:00:05.000Z',
    };
    const [regression, fresh] = eventRecords(
      batch({
        planChanges: [
          change,
          {
            queryId: '8',
            databaseName: 'app',
            newPlanHash: 'cccc',
            kind: 'new_plan',
            generic: false,
            detectedAt: '2026-01-01T00:00:05.000Z',
          },
        ],
      }),
      ALL,
    );
    expect(regression).toMatchObject({ eventName: 'postgresql.plan.change', severity: 'WARN' });
    expect(regression?.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'app',
      'postgresql.queryid': '7',
      'postgresql.plan.change.kind': 'suspected_regression',
      'postgresql.plan.previous_hash': 'aaaa',
      'postgresql.plan.hash': 'bbbb',
      'postgresql.plan.previous_mean_exec_time': 0.002,
      'postgresql.plan.mean_exec_time': 0.035,
      'postgresql.plan.extra_time_per_hour': 120,
      'postgresql.plan.calls': 40,
      'postgresql.plan.generic': true,
    });
    expect(regression?.body).toBe(
      'suspected plan regression of query 7: aaaa → bbbb, mean 2 ms → 35 ms, +120 s per hour',
    );
    expect(fresh?.severity).toBe('INFO');
    expect(fresh?.attributes).not.toHaveProperty('postgresql.plan.previous_hash');
    expect(fresh?.attributes).not.toHaveProperty('postgresql.plan.mean_exec_time');
  });

  it('maps a blocking edge with both texts, wait and transaction age in seconds', () => {
    const edge: BlockingSession = {
      databaseName: 'app',
      blockedPid: 200,
      blockedQuery: 'UPDATE notes SET note = ? WHERE id = ?',
      blockedQueryId: '5',
      blockingPid: 100,
      blockingQuery: 'UPDATE notes SET note = ? WHERE id = ?',
      blockingState: 'idle in transaction',
      blockingXactAgeMs: 12_000,
      lockType: 'transactionid',
      lockMode: 'ShareLock',
      blockedForMs: 3200,
      rootBlockingPid: 100,
      depth: 1,
      collectedAt: '2026-01-01T00:00:03.000Z',
    };
    const r = only(eventRecords(batch({ blockingSessions: [edge] }), ALL));
    expect(r.eventName).toBe('postgresql.blocking');
    expect(r.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'app',
      'db.query.text': 'UPDATE notes SET note = ? WHERE id = ?',
      'postgresql.blocked.pid': 200,
      'postgresql.blocked.query_id': '5',
      'postgresql.blocked.wait_time': 3.2,
      'postgresql.blocking.pid': 100,
      'postgresql.blocking.root_pid': 100,
      'postgresql.blocking.depth': 1,
      'postgresql.blocking.query.text': 'UPDATE notes SET note = ? WHERE id = ?',
      'postgresql.blocking.state': 'idle in transaction',
      'postgresql.blocking.transaction_age': 12,
      'postgresql.lock.type': 'transactionid',
      'postgresql.lock.mode': 'ShareLock',
    });
    expect(r.body).toBe(
      'pid 200 waits 3.2 s on a transactionid ShareLock lock held by pid 100 (idle in transaction)',
    );
  });

  it('emits only the enabled kinds; raw ASH samples are off by default', () => {
    const b = batch({
      slowQueries: [slow],
      ashSamples: [
        {
          sampledAt: '2026-01-01T00:00:00.000Z',
          sampleIntervalMs: 1000,
          pid: 1,
          state: 'active',
          waitEventType: 'CPU',
          waitEvent: 'CPU',
        },
      ],
    });
    expect(eventRecords(b, OTLP_LOGS_DEFAULTS.events).map((r) => r.eventName)).toEqual([
      'db.server.top_query',
    ]);
    expect(eventRecords(b, { ...ALL, topQueries: false }).map((r) => r.body)).toEqual([
      'pid 1 active, on CPU',
    ]);
  });
});
