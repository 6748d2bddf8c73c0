import type { ShardingSettings } from '../core/config/sharding-settings.js';
import type { ExportAdapter } from '../core/export-adapter.js';
import type { AdapterExportStats } from '../core/export-manager.js';
import { redact } from '../core/redact.js';
import { counter, gauge, type RunTelemetry } from '../core/run-telemetry.js';
import type { SchedulerStats } from '../core/scheduler.js';
import type { ReadinessCheck, SelfMetricPoint, SelfMetricSource } from '../core/self-telemetry.js';

/** What the collector's own metrics and readiness are read from. */
export interface SelfTelemetryParts {
  readonly runs: RunTelemetry;
  readonly adapters: readonly ExportAdapter[];
  /** The export lanes' counters, by adapter name. */
  readonly exportStats: () => Record<string, AdapterExportStats>;
  /** undefined while not collecting periodically. */
  readonly schedulerStats: () => SchedulerStats | undefined;
  /** Targets collected now. */
  readonly targets: () => readonly string[];
  /** Those with at least one collector enabled: the ones whose first run readiness waits for. */
  readonly collecting: () => readonly string[];
  /** This replica's share, when the targets are sharded. */
  readonly sharding?: ShardingSettings;
}

/**
 * The collector's own metrics and readiness, assembled on demand from the counters the
 * scheduler, the export lanes, the adapters and the batches already keep.
 */
export class SelfTelemetry implements SelfMetricSource {
  readonly #parts: SelfTelemetryParts;

  #stopping = false;

  constructor(parts: SelfTelemetryParts) {
    this.#parts = parts;
  }

  /** From now on /readyz says not ready: the process is on its way out. */
  markStopping(): void {
    this.#stopping = true;
  }

  selfMetrics(): SelfMetricPoint[] {
    const p = this.#parts;
    const out: SelfMetricPoint[] = [...p.runs.selfMetrics()];
    out.push(
      gauge(
        'pgquerylens.targets',
        'Targets this process collects',
        '{target}',
        p.targets().length,
        {},
      ),
    );
    if (p.sharding !== undefined && p.sharding.shards > 1) {
      const share = { shard: String(p.sharding.shard), shards: String(p.sharding.shards) };
      const n = p.targets().length;
      out.push(
        gauge('pgquerylens.shard.targets', 'Targets in this replica’s share', '{target}', n, share),
      );
    }
    const scheduler = p.schedulerStats();
    if (scheduler !== undefined) {
      const runs = (outcome: string, n: number): SelfMetricPoint =>
        counter('pgquerylens.scheduler.runs', 'Scheduled collection runs by outcome', '{run}', n, {
          outcome,
        });
      out.push(
        runs('started', scheduler.runs),
        runs('skipped', scheduler.skipped),
        runs('failed', scheduler.failed),
      );
    }
    for (const [adapter, s] of Object.entries(p.exportStats())) {
      const batches = (outcome: string, n: number): SelfMetricPoint =>
        counter(
          'pgquerylens.export.batches',
          'Batches handed to an adapter, by outcome',
          '{batch}',
          n,
          {
            adapter,
            outcome,
          },
        );
      const records = (outcome: string, n: number): SelfMetricPoint =>
        counter(
          'pgquerylens.export.records',
          'Records in the batches exported or dropped',
          '{record}',
          n,
          {
            adapter,
            outcome,
          },
        );
      out.push(
        batches('exported', s.exported),
        batches('retried', s.retried),
        batches('dropped', s.dropped),
        batches('failed_attempt', s.failedAttempts),
        records('exported', s.exportedRows),
        records('dropped', s.droppedRows),
        gauge(
          'pgquerylens.export.queue.depth',
          'Batches waiting or in delivery',
          '{batch}',
          s.queued,
          {
            adapter,
          },
        ),
      );
    }
    for (const adapter of p.adapters) out.push(...(adapter.selfMetrics?.() ?? []));
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    out.push(
      gauge('pgquerylens.process.memory.rss', 'Resident memory', 'By', memory.rss, {}),
      gauge('pgquerylens.process.memory.heap_used', 'V8 heap in use', 'By', memory.heapUsed, {}),
      {
        name: 'pgquerylens.process.cpu.time',
        description: 'CPU time of this process',
        unit: 's',
        kind: 'counter',
        integer: false,
        value: cpu.user / 1e6,
        attributes: { 'cpu.mode': 'user' },
      },
      {
        name: 'pgquerylens.process.cpu.time',
        description: 'CPU time of this process',
        unit: 's',
        kind: 'counter',
        integer: false,
        value: cpu.system / 1e6,
        attributes: { 'cpu.mode': 'system' },
      },
    );
    return out;
  }

  /**
   * Ready once every target finished a run and no adapter's destination is known to be down.
   * An adapter that has not delivered yet counts as reachable: it has not failed.
   */
  readiness(): ReadinessCheck[] {
    const p = this.#parts;
    const checks: ReadinessCheck[] = [{ name: 'config', ok: true }];
    const firstRun = !this.#stopping && p.runs.completedFirstRun(p.collecting());
    checks.push({
      name: 'first-cycle',
      ok: firstRun,
      ...(firstRun
        ? {}
        : { detail: this.#stopping ? 'shutting down' : 'waiting for every target’s first run' }),
    });
    const stats = p.exportStats();
    for (const adapter of p.adapters) {
      const own = adapter.health?.();
      const lane = stats[adapter.name];
      const reachable =
        own !== undefined
          ? own.reachable
          : lane === undefined || lane.lastOutcome === 'none'
            ? undefined
            : lane.lastOutcome === 'ok';
      const detail = own?.detail ?? lane?.lastError;
      checks.push({
        name: `adapter:${adapter.name}`,
        ok: reachable !== false,
        ...(reachable === false && detail !== undefined ? { detail: redact(detail) } : {}),
      });
    }
    return checks;
  }
}
