import type { ProbeCollector } from '../../src/collectors/probes/define-probe.js';
import { pgDatabase } from '../../src/collectors/probes/pg-database.js';
import { pgSettings } from '../../src/collectors/probes/pg-settings.js';
import { pgStatAllIndexes } from '../../src/collectors/probes/pg-stat-all-indexes.js';
import { pgStatAllTables } from '../../src/collectors/probes/pg-stat-all-tables.js';
import { pgStatBgwriter } from '../../src/collectors/probes/pg-stat-bgwriter.js';
import { pgStatCheckpointer } from '../../src/collectors/probes/pg-stat-checkpointer.js';
import { pgStatDatabase } from '../../src/collectors/probes/pg-stat-database.js';
import type { TargetIdentity } from '../../src/core/model/target-identity.js';
import {
  emptyParts,
  UNIFIED_METRICS_SCHEMA_VERSION,
  type UnifiedMetrics,
} from '../../src/core/model/unified-metrics.js';
import { runProbes } from './probe-run.js';

/** Probes behind the receiver's database, table, index and bgwriter metrics. */
function probesFor(major: number): readonly ProbeCollector[] {
  return [
    pgStatDatabase,
    pgStatAllTables,
    pgStatAllIndexes,
    pgSettings,
    pgDatabase,
    pgStatBgwriter,
    ...(major >= 17 ? [pgStatCheckpointer] : []),
  ];
}

/** A real batch of those probes from one database, as a collection run would publish it. */
export async function probeBatch(
  dbUrl: string,
  db: string,
  major: number,
  target: TargetIdentity,
): Promise<UnifiedMetrics> {
  const runs = await runProbes(dbUrl, probesFor(major), [db]);
  const now = new Date().toISOString();
  return {
    schemaVersion: UNIFIED_METRICS_SCHEMA_VERSION,
    target,
    server: { versionNum: major * 10_000 },
    metadata: {
      collectorVersion: 'test',
      startedAt: now,
      finishedAt: now,
      collectors: [...runs.values()].flatMap((r) => r.statuses),
    },
    ...emptyParts(),
    probes: [...runs.values()].flatMap((r) => r.samples),
  };
}
