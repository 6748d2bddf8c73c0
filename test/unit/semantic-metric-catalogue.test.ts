import { describe, expect, it } from 'vitest';
import type { ProbeRow, ProbeSample } from '../../src/core/model/probe-sample.js';
import {
  emptyParts,
  UNIFIED_METRICS_SCHEMA_VERSION,
  type MetricParts,
  type UnifiedMetrics,
} from '../../src/core/model/unified-metrics.js';
import {
  deriveMetricPoints,
  METRIC_DESCRIPTORS,
} from '../../src/core/semantic-metrics/catalogue.js';
import type {
  MetricInstrument,
  MetricPoint,
} from '../../src/core/semantic-metrics/metric-types.js';

/**
 * The OpenTelemetry Collector postgresqlreceiver's metrics as its metadata.yaml defines them
 * (commit 009e716d, semconv-mode attributes) that our probes can compute. Vector metrics
 * (pgvector), `postgresql.wal.lag` (replaced by wal.delay under the default gate) and
 * `postgresql.database.locks` (needs a relation our lock probe does not group by) are not.
 */
const RECEIVER: readonly (readonly [string, string, MetricInstrument, boolean, string[]])[] = [
  ['postgresql.backends', '1', 'updown-counter', true, ['db.namespace']],
  ['postgresql.bgwriter.buffers.allocated', '{buffers}', 'counter', true, []],
  ['postgresql.bgwriter.buffers.writes', '{buffers}', 'counter', true, ['source']],
  ['postgresql.bgwriter.checkpoint.count', '{checkpoints}', 'counter', true, ['type']],
  ['postgresql.bgwriter.duration', 'ms', 'counter', false, ['type']],
  ['postgresql.bgwriter.maxwritten', '1', 'counter', true, []],
  [
    'postgresql.blocks_read',
    '1',
    'counter',
    true,
    ['source', 'db.namespace', 'db.collection.name'],
  ],
  ['postgresql.commits', '1', 'counter', true, ['db.namespace']],
  ['postgresql.connection.max', '{connections}', 'gauge', true, []],
  ['postgresql.database.count', '{databases}', 'updown-counter', true, []],
  ['postgresql.db_size', 'By', 'updown-counter', true, ['db.namespace']],
  [
    'postgresql.index.scans',
    '{scans}',
    'counter',
    true,
    ['db.namespace', 'db.collection.name', 'postgresql.index.name'],
  ],
  [
    'postgresql.index.size',
    'By',
    'gauge',
    true,
    ['db.namespace', 'db.collection.name', 'postgresql.index.name'],
  ],
  [
    'postgresql.operations',
    '1',
    'counter',
    true,
    ['operation', 'db.namespace', 'db.collection.name'],
  ],
  ['postgresql.replication.data_delay', 'By', 'gauge', true, ['replication_client']],
  ['postgresql.rollbacks', '1', 'counter', true, ['db.namespace']],
  ['postgresql.rows', '1', 'updown-counter', true, ['state', 'db.namespace', 'db.collection.name']],
  ['postgresql.table.count', '{table}', 'updown-counter', true, ['db.namespace']],
  ['postgresql.table.size', 'By', 'updown-counter', true, ['db.namespace', 'db.collection.name']],
  [
    'postgresql.table.vacuum.count',
    '{vacuum}',
    'counter',
    true,
    ['db.namespace', 'db.collection.name'],
  ],
  ['postgresql.wal.age', 's', 'gauge', true, []],
  ['postgresql.wal.delay', 's', 'gauge', false, ['operation', 'replication_client']],
  ['postgresql.blks_hit', '{blks_hit}', 'counter', true, ['db.namespace']],
  ['postgresql.blks_read', '{blks_read}', 'counter', true, ['db.namespace']],
  ['postgresql.deadlocks', '{deadlock}', 'counter', true, ['db.namespace']],
  ['postgresql.function.calls', '{call}', 'counter', true, ['function', 'db.namespace']],
  [
    'postgresql.query.conflicts',
    '{query}',
    'counter',
    true,
    ['postgresql.conflict.type', 'db.namespace'],
  ],
  ['postgresql.query.execution.time', 's', 'counter', false, ['db.namespace']],
  [
    'postgresql.sequential_scans',
    '{sequential_scan}',
    'counter',
    true,
    ['db.namespace', 'db.collection.name'],
  ],
  ['postgresql.temp.io', 'By', 'counter', true, ['db.namespace']],
  ['postgresql.temp_files', '{temp_file}', 'counter', true, ['db.namespace']],
  ['postgresql.tup_deleted', '{tup_deleted}', 'counter', true, ['db.namespace']],
  ['postgresql.tup_fetched', '{tup_fetched}', 'counter', true, ['db.namespace']],
  ['postgresql.tup_inserted', '{tup_inserted}', 'counter', true, ['db.namespace']],
  ['postgresql.tup_returned', '{tup_returned}', 'counter', true, ['db.namespace']],
  ['postgresql.tup_updated', '{tup_updated}', 'counter', true, ['db.namespace']],
];

/** UCUM as semconv uses it: a few base units, `1`, annotations, and per-second rates of them. */
const UNIT = /^(1|By|s|ms|\{[a-z_]+\})(\/s)?$/;

/** Lowercase dotted segments of snake_case words. */
const NAME = /^(postgresql|pgbouncer)(\.[a-z][a-z0-9_]*)+$/;

/** Unit words that must not appear in a name (semconv: units go in the unit). */
const UNIT_WORDS = /(^|[._])(bytes|seconds|milliseconds|ms|percent|pct|total)($|[._])/;

describe('the semantic metric catalogue', () => {
  const byName = new Map(METRIC_DESCRIPTORS.map((d) => [d.name, d]));

  it('has unique, semconv-shaped names and UCUM units', () => {
    expect(byName.size).toBe(METRIC_DESCRIPTORS.length);
    for (const d of METRIC_DESCRIPTORS) {
      expect(d.name, d.name).toMatch(NAME);
      expect(d.name.endsWith('_total'), d.name).toBe(false);
      expect(UNIT_WORDS.test(d.name), d.name).toBe(false);
      expect(d.unit, d.name).toMatch(UNIT);
      expect(d.description.length, d.name).toBeGreaterThan(10);
    }
  });

  it('keeps no name that is also a namespace of another', () => {
    const names = [...byName.keys()];
    for (const name of names) {
      expect(
        names.filter((other) => other.startsWith(`${name}.`)),
        name,
      ).toEqual([]);
    }
  });

  it('follows the suffix rules outside the receiver’s own names', () => {
    for (const d of METRIC_DESCRIPTORS.filter((m) => !m.receiver)) {
      // `.count` is for up-down counts; monotonic sums are pluralised instead.
      if (d.name.endsWith('.count')) expect(d.instrument, d.name).toBe('updown-counter');
      // `.time` is cumulative time in seconds.
      if (d.name.endsWith('.time')) {
        expect(d.instrument, d.name).toBe('counter');
        expect(d.unit, d.name).toBe('s');
      }
      if (d.name.endsWith('.age')) expect(d.instrument, d.name).toBe('gauge');
      if (d.name.endsWith('.utilization')) expect(d.unit, d.name).toBe('1');
      if (d.unit === 's') expect(d.integer, d.name).toBe(false);
    }
  });

  it('uses delta temporality only on counters', () => {
    for (const d of METRIC_DESCRIPTORS) {
      if (d.temporality === 'delta') expect(d.instrument, d.name).toBe('counter');
    }
  });

  it('has every computable receiver metric with the receiver’s unit, kind, type and attributes', () => {
    for (const [name, unit, instrument, integer, attributes] of RECEIVER) {
      const d = byName.get(name);
      expect(d, name).toBeDefined();
      expect(d).toMatchObject({
        unit,
        instrument,
        integer,
        receiver: true,
        temporality: 'cumulative',
      });
      expect([...(d?.attributes ?? [])].sort(), name).toEqual([...attributes].sort());
    }
    const claimed = METRIC_DESCRIPTORS.filter((d) => d.receiver).map((d) => d.name);
    expect(claimed.sort()).toEqual(RECEIVER.map(([name]) => name).sort());
  });

  it('never uses receiver-only generic attribute names on our own metrics', () => {
    const generic = new Set([
      'source',
      'type',
      'state',
      'operation',
      'function',
      'replication_client',
    ]);
    for (const d of METRIC_DESCRIPTORS.filter((m) => !m.receiver)) {
      const shared = d.attributes.filter((a) => generic.has(a));
      // Siblings of receiver metrics split the same way, so they facet together: function
      // times by `function` like postgresql.function.calls, restartpoints by `type` like
      // postgresql.bgwriter.checkpoint.count.
      if (
        d.name.startsWith('postgresql.function.') ||
        d.name.startsWith('postgresql.checkpointer.')
      ) {
        continue;
      }
      expect(shared, d.name).toEqual([]);
    }
  });
});

/** A batch of hand-built parts, for the rules the real-server tests cannot force. */
function batchOf(parts: Partial<MetricParts>, version = 170000): UnifiedMetrics {
  const now = '2026-01-01T00:00:00.000Z';
  return {
    schemaVersion: UNIFIED_METRICS_SCHEMA_VERSION,
    target: { name: 't', host: 'h', port: 5432, labels: {} },
    server: { versionNum: version },
    metadata: { collectorVersion: 'test', startedAt: now, finishedAt: now, collectors: [] },
    ...emptyParts(),
    ...parts,
  };
}

function sample(probe: string, rows: ProbeRow[], database?: string): ProbeSample {
  return {
    probe,
    scope: database === undefined ? 'server' : 'database',
    ...(database === undefined ? {} : { database }),
    collectedAt: '2026-01-01T00:00:10.000Z',
    rows,
  };
}

function named(points: readonly MetricPoint[], name: string): MetricPoint[] {
  return points.filter((p) => p.descriptor.name === name);
}

describe('deriving points', () => {
  it('yields nothing for an empty batch', () => {
    expect(deriveMetricPoints(batchOf({}))).toEqual([]);
  });

  it('drops NULL, NaN and infinite values and rounds integer metrics', () => {
    const points = deriveMetricPoints(
      batchOf({
        probes: [
          sample(
            'pg_stat_database',
            [
              {
                datname: 'app',
                xact_commit: 10.4,
                xact_rollback: null,
                deadlocks: Number.NaN,
                temp_bytes: Number.POSITIVE_INFINITY,
              },
            ],
            'app',
          ),
        ],
      }),
    );
    expect(named(points, 'postgresql.commits').map((p) => p.value)).toEqual([10]);
    for (const name of ['postgresql.rollbacks', 'postgresql.deadlocks', 'postgresql.temp.io']) {
      expect(named(points, name), name).toEqual([]);
    }
    for (const p of points) expect(Number.isFinite(p.value)).toBe(true);
  });

  it('writes db.namespace as db|schema for objects and keeps user tables only', () => {
    const row = (schemaname: string, relname: string): ProbeRow => ({
      schemaname,
      relname,
      n_live_tup: 5,
      n_dead_tup: 1,
    });
    const points = deriveMetricPoints(
      batchOf({
        probes: [
          sample(
            'pg_stat_all_tables',
            [row('sales', 'orders'), row('pg_catalog', 'pg_class'), row('pg_toast', 'pg_toast_1')],
            'app|x',
          ),
        ],
      }),
    );
    const rows = named(points, 'postgresql.rows');
    expect(rows.map((p) => p.attributes)).toEqual([
      { state: 'live', 'db.namespace': 'app|x|sales', 'db.collection.name': 'orders' },
      { state: 'dead', 'db.namespace': 'app|x|sales', 'db.collection.name': 'orders' },
    ]);
    // The object says it exactly, whatever the database name holds.
    expect(rows[0]?.object).toEqual({ database: 'app|x', schema: 'sales', table: 'orders' });
    expect(named(points, 'postgresql.table.count').map((p) => p.value)).toEqual([1]);
  });

  it('reads checkpoints from pg_stat_checkpointer and backend writes only where they exist', () => {
    const bgwriter = sample('pg_stat_bgwriter', [
      { buffers_clean: 1, maxwritten_clean: 2, buffers_alloc: 3 },
    ]);
    const checkpointer = sample('pg_stat_checkpointer', [
      { num_timed: 4, num_requested: 5, write_time: 6.5, sync_time: 7.5, buffers_written: 8 },
    ]);
    const pg17 = deriveMetricPoints(batchOf({ probes: [bgwriter, checkpointer] }));
    const writes = named(pg17, 'postgresql.bgwriter.buffers.writes');
    expect(writes.map((p) => [p.attributes.source, p.value])).toEqual([
      ['bgwriter', 1],
      ['checkpoints', 8],
    ]);
    expect(named(pg17, 'postgresql.bgwriter.checkpoint.count').map((p) => p.value)).toEqual([5, 4]);

    // Before 17, with only pg_stat_bgwriter in the batch: its own checkpoint columns.
    const pg16 = deriveMetricPoints(
      batchOf(
        {
          probes: [
            sample('pg_stat_bgwriter', [
              {
                buffers_clean: 1,
                buffers_backend: 9,
                buffers_backend_fsync: 0,
                checkpoints_timed: 4,
                checkpoints_req: 5,
                checkpoint_write_time: 6,
                checkpoint_sync_time: 7,
                buffers_checkpoint: 8,
              },
            ]),
          ],
        },
        160000,
      ),
    );
    expect(
      named(pg16, 'postgresql.bgwriter.buffers.writes').map((p) => p.attributes.source),
    ).toEqual(['bgwriter', 'backend', 'backend_fsync', 'checkpoints']);
    expect(named(pg16, 'postgresql.bgwriter.duration').map((p) => p.value)).toEqual([7, 6]);
  });

  it('averages active sessions over sampled windows only, weighted by their length', () => {
    const bucket = (aas: number) => ({
      databaseName: 'app',
      waitEventType: 'CPU',
      waitEvent: 'CPU',
      state: 'active',
      samples: 1,
      averageActiveSessions: aas,
    });
    const window = (start: number, end: number, ticks: number, aas: number) => ({
      windowStart: new Date(start * 1000).toISOString(),
      windowEnd: new Date(end * 1000).toISOString(),
      sampleIntervalMs: 1000,
      ticks,
      failedTicks: 0,
      skippedTicks: 0,
      samples: ticks,
      averageActiveSessions: aas,
      buckets: aas === 0 ? [] : [bucket(aas)],
    });
    const points = deriveMetricPoints(
      batchOf({
        activeSessions: [window(0, 10, 10, 2), window(10, 40, 30, 0), window(40, 50, 0, 0)],
      }),
    );
    // 2 sessions for 10 s, none for 30 s; the outage window (no ticks) counts for nothing.
    expect(named(points, 'postgresql.session.load_average').map((p) => p.value)).toEqual([0.5]);
  });

  it('reports zero blocking when the collector ran and found nothing', () => {
    const ran = batchOf({});
    const withStatus: UnifiedMetrics = {
      ...ran,
      metadata: {
        ...ran.metadata,
        collectors: [{ collector: 'blocking_sessions', durationMs: 1, success: true }],
      },
    };
    const points = deriveMetricPoints(withStatus);
    expect(points.map((p) => [p.descriptor.name, p.value])).toEqual([
      ['postgresql.blocking.chain.count', 0],
      ['postgresql.session.blocked.count', 0],
      ['postgresql.blocking.chain.max_depth', 0],
    ]);
  });

  it('counts wait time from pg_wait_sampling alone when both sources reported', () => {
    const wait = (source: 'ash' | 'pg_wait_sampling', ms: number) => ({
      databaseName: 'app',
      waitEventType: 'IO',
      waitEvent: 'DataFileRead',
      waitEventName: 'IO:DataFileRead',
      waitCategory: 'Disk IO' as const,
      totalWaitTimeMs: ms,
      sampleCount: 1,
      source,
      collectedAt: '2026-01-01T00:00:10.000Z',
    });
    const points = deriveMetricPoints(
      batchOf({
        waitEvents: [
          wait('ash', 1000),
          wait('pg_wait_sampling', 250),
          wait('pg_wait_sampling', 250),
        ],
      }),
    );
    const time = named(points, 'postgresql.wait.time');
    expect(time.map((p) => p.value)).toEqual([0.5]);
    expect(time[0]?.descriptor.temporality).toBe('delta');
  });
});
