import type { ExportAdapter } from '../../core/export-adapter.js';
import type { ProbeSample } from '../../core/model/probe-sample.js';
import type { UnifiedMetrics } from '../../core/model/unified-metrics.js';
import { LineWriter } from './line-writer.js';

/** A few human-readable lines per batch: what `npm start` shows a newcomer. */
export class SummaryAdapter implements ExportAdapter {
  readonly #reportedUnavailable = new Set<string>();
  readonly name = 'summary';
  readonly #writer: LineWriter;

  constructor(path: string) {
    this.#writer = new LineWriter(path);
  }

  async export(batch: UnifiedMetrics, signal: AbortSignal): Promise<void> {
    for (const line of formatSummary(batch, this.#reportedUnavailable)) {
      await this.#writer.write(line, signal);
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  async shutdown(): Promise<void> {
    await this.#writer.close();
  }
}

/** The lines printed for one batch. */
export function formatSummary(
  batch: UnifiedMetrics,
  reportedUnavailable: Set<string> = new Set(),
): string[] {
  const time = batch.metadata.finishedAt.slice(11, 19);
  const version = batch.server.version === undefined ? '' : ` PostgreSQL ${batch.server.version}`;
  const statuses = batch.metadata.collectors;
  const ok = statuses.filter((c) => c.success).length;
  const unavailable = statuses.filter((c) => c.unavailable === true);
  const failed = statuses.length - ok - unavailable.length;
  const rows = batch.probes.reduce((n, p) => n + p.rows.length, 0);
  const lines = [
    `${time} ${batch.target.name}${version}: ${ok}/${statuses.length} collector runs ok` +
      (unavailable.length > 0 ? `, ${unavailable.length} unavailable` : '') +
      (failed > 0 ? `, ${failed} failed` : '') +
      `; ${rows} rows from ${batch.probes.length} samples`,
  ];
  if (batch.metadata.error !== undefined) {
    lines.push(`  unreachable: ${batch.metadata.error}`);
  }
  for (const status of statuses) {
    const where = status.database === undefined ? '' : ` [${status.database}]`;
    if (status.unavailable === true) {
      // A property of the server, not news: said once per target and collector.
      const key = `${batch.target.name}/${status.collector}`;
      if (reportedUnavailable.has(key)) continue;
      reportedUnavailable.add(key);
      lines.push(`  ${status.collector}${where} unavailable: ${status.error ?? 'unknown reason'}`);
    } else if (!status.success) {
      lines.push(`  ${status.collector}${where} failed: ${status.error ?? 'unknown error'}`);
    }
  }
  for (const probe of batch.probes) {
    const line = describeProbe(probe);
    if (line !== undefined) lines.push(`  ${line}`);
  }
  lines.push(...describeQueryPerformance(batch).map((line) => `  ${line}`));
  return lines;
}

/** One line per query-performance part that has something to say. */
function describeQueryPerformance(batch: UnifiedMetrics): string[] {
  const lines: string[] = [];
  const top = batch.slowQueries[0];
  if (top !== undefined) {
    const text = top.queryText.replace(/\s+/g, ' ').slice(0, 60);
    lines.push(
      `slow queries: ${batch.slowQueries.length}; top ${top.totalExecTimeMs} ms in ` +
        `${top.calls} calls (mean ${top.meanExecTimeMs} ms) [${top.databaseName}] ${text}`,
    );
  }
  for (const window of batch.activeSessions) {
    const busiest = window.buckets[0];
    lines.push(
      `active sessions: ${window.averageActiveSessions} average over ${window.ticks} ticks` +
        (window.failedTicks > 0 ? ` (${window.failedTicks} failed)` : '') +
        (busiest === undefined
          ? ''
          : `; busiest ${busiest.waitEventType}:${busiest.waitEvent} (${busiest.state})`),
    );
  }
  if (batch.waitEvents.length > 0) {
    const w = batch.waitEvents[0];
    lines.push(
      `wait events: ${batch.waitEvents.length}; top ${w?.waitEventName} ${w?.totalWaitTimeMs} ms`,
    );
  }
  if (batch.blockingSessions.length > 0) {
    const deepest = Math.max(...batch.blockingSessions.map((b) => b.depth));
    lines.push(
      `blocking: ${batch.blockingSessions.length} blocked sessions, chains up to ${deepest} deep`,
    );
  }
  if (batch.executionPlans.length > 0 || batch.planChanges.length > 0) {
    const regressions = batch.planChanges.filter((c) => c.kind === 'suspected_regression').length;
    lines.push(
      `plans: ${batch.executionPlans.length} captured, ${batch.planChanges.length} changes` +
        (regressions > 0 ? `, ${regressions} suspected regressions` : ''),
    );
  }
  return lines;
}

/** A line for the probes people read at a glance; the rest are counted in the header. */
function describeProbe(probe: ProbeSample): string | undefined {
  const where = probe.database === undefined ? '' : ` [${probe.database}]`;
  const head = `${probe.probe}${where}: ${probe.rows.length} row${probe.rows.length === 1 ? '' : 's'}`;
  switch (probe.probe) {
    case 'pg_stat_database': {
      const row = probe.rows[0];
      if (row === undefined) return head;
      const hit = Number(row.blks_hit ?? 0);
      const read = Number(row.blks_read ?? 0);
      const ratio = hit + read === 0 ? 'n/a' : `${((100 * hit) / (hit + read)).toFixed(1)}%`;
      return `${head}, ${String(row.xact_commit)} commits, ${String(row.numbackends)} backends, cache hit ${ratio}, ${formatBytes(Number(row.size_bytes ?? 0))}`;
    }
    case 'pg_stat_activity_summary': {
      const byState = new Map<string, number>();
      for (const row of probe.rows) {
        const state = String(row.state);
        byState.set(state, (byState.get(state) ?? 0) + Number(row.sessions ?? 0));
      }
      const parts = [...byState].map(([state, n]) => `${n} ${state}`);
      return `${head}, sessions: ${parts.join(', ') || 'none'}`;
    }
    default:
      return undefined;
  }
}

function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit] ?? 'B'}`;
}
