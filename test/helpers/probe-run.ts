import { afterAll } from 'vitest';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import type { ProbeCollector } from '../../src/collectors/probes/define-probe.js';
import { CollectionRunner } from '../../src/core/collection-runner.js';
import { silentLogger } from '../../src/core/logger.js';
import type { CollectorRunStatus } from '../../src/core/model/collection-metadata.js';
import type { ProbeRow, ProbeSample } from '../../src/core/model/probe-sample.js';
import { targetFor } from './targets.js';

const connectors = new Map<string, PgTargetConnector>();

afterAll(async () => {
  await Promise.all([...connectors.values()].map((c) => c.close()));
  connectors.clear();
});

function connectorFor(url: string, databases: 'all' | string[]): PgTargetConnector {
  const key = `${url} ${JSON.stringify(databases)}`;
  let connector = connectors.get(key);
  if (connector === undefined) {
    connector = new PgTargetConnector(
      targetFor(url, { name: 'probe-test', databases }),
      silentLogger,
    );
    connectors.set(key, connector);
  }
  return connector;
}

/** What one probe produced in one run through the real runner. */
export interface ProbeRun {
  /** Samples, one per database for database-scoped probes. */
  readonly samples: readonly ProbeSample[];
  /** Every row of every sample. */
  readonly rows: readonly ProbeRow[];
  /** Run status per database (one for server-scoped probes). */
  readonly statuses: readonly CollectorRunStatus[];
}

/**
 * Runs probes once through the CollectionRunner against a real server, on `databases`
 * (default: every database), as the daemon would.
 */
export async function runProbes(
  url: string,
  probes: readonly ProbeCollector[],
  databases: 'all' | string[] = 'all',
): Promise<Map<string, ProbeRun>> {
  const connector = connectorFor(url, databases);
  const runner = new CollectionRunner({
    target: { name: 'probe-test', host: '127.0.0.1', port: 5432, labels: {} },
    connector,
    collectors: probes,
    settings: () => ({ statementTimeoutMs: 10_000, deadlineMs: 20_000 }),
    collectorVersion: 'test',
    logger: silentLogger,
  });
  const batch = await runner.run(
    probes.map((p) => p.name),
    new AbortController().signal,
  );
  const out = new Map<string, ProbeRun>();
  for (const probe of probes) {
    const samples = batch.probes.filter((s) => s.probe === probe.name);
    out.set(probe.name, {
      samples,
      rows: samples.flatMap((s) => s.rows),
      statuses: batch.metadata.collectors.filter((c) => c.collector === probe.name),
    });
  }
  return out;
}

/** Runs one probe; see runProbes. */
export async function runProbe(
  url: string,
  probe: ProbeCollector,
  databases: 'all' | string[] = 'all',
): Promise<ProbeRun> {
  const result = (await runProbes(url, [probe], databases)).get(probe.name);
  if (result === undefined) throw new Error(`probe ${probe.name} did not run`);
  return result;
}
