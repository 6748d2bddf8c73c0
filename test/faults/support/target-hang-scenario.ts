import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { UnifiedMetrics } from '../../../src/core/model/unified-metrics.js';
import { cleanEnv } from '../../helpers/cli.js';
import { queryOnce } from '../../helpers/fresh-database.js';
import { ActivityWatch } from './target-activity-watch.js';
import { batchesIn, metricValue, pollUntil, scrape, startDaemon } from './target-cli.js';

/**
 * The hanging probe: pg_sequence_exhaustion reads the catalog pg_sequence, which nothing else
 * the collector runs touches, so an ACCESS EXCLUSIVE lock on it in one database hangs that probe
 * there and nothing else.
 */
export const PROBE = 'pg_sequence_exhaustion';
/**
 * The start of the probe's SQL, in no other statement the collector sends (pg_stat_activity
 * keeps only the first track_activity_query_size bytes of a statement).
 */
const PROBE_FRAGMENT = '/* pgquerylens */ WITH locked AS (';
export const HUNG = 'hung';
export const OTHER = 'other';
/** A probe every collection cycle runs and that always has one row: marks a cycle's batch. */
export const CYCLE_MARK = 'pg_connectivity';

export const dbOf = (url: string): string => new URL(url).pathname.slice(1);

/** The databases: HUNG reads `locked` and `free`, OTHER reads `other`; each has `fault_seq`. */
export interface HangDatabases {
  readonly dir: string;
  /** The server, for watching pg_stat_activity. */
  readonly serverUrl: string;
  readonly lockedUrl: string;
  readonly freeUrl: string;
  readonly otherUrl: string;
}

export interface HangCase {
  readonly label: string;
  /** Interval of every collector that runs each cycle, the probe included. */
  readonly intervalMs: number;
  /** The probe's own `statementTimeout` / `timeout`. */
  readonly probeSettings: Readonly<Record<string, string>>;
  /** Timed-out runs of the probe to see before the lock is released. */
  readonly timeouts: number;
  /** How long to wait for them. */
  readonly timeoutsWithinMs: number;
  /** How long to wait for rows again after the release. */
  readonly recoveryWithinMs: number;
}

export interface HangRun {
  readonly batches: UnifiedMetrics[];
  /** When the lock was held (LOCK returned). */
  readonly lockedAt: number;
  /** Just before the COMMIT that released it. */
  readonly releasedAt: number;
  /** The first batch with the probe's rows of the locked database after the release. */
  readonly recovered: UnifiedMetrics;
  /** SQLSTATE of a plain read of pg_sequence in the locked database while locked. */
  readonly plainReadLocked: string | undefined;
  /** SQLSTATE of the same read in the other target's database ('' when it succeeded). */
  readonly plainReadOther: string | undefined;
  /** `pgquerylens_scheduler_runs_total{outcome="skipped"}` before the lock, at the release, last. */
  readonly skipped: { readonly before: number; readonly atRelease: number; readonly last: number };
  /** `previous run still in progress` warnings, as target/collector. */
  readonly skipLines: readonly string[];
  /** `overrunning run ended` lines: which collector, and how many turns it skipped. */
  readonly overrunEnds: readonly { readonly key: string; readonly skippedTurns: number }[];
  /** Each collector's interval from the `collecting` log line, ms. */
  readonly cadence: ReadonlyMap<string, number>;
  readonly watch: ActivityWatch;
  readonly exitCode: number | null;
  readonly stderr: string;
}

/** The batches of `target` started in [from, to], oldest first. */
export function ofTarget(
  batches: readonly UnifiedMetrics[],
  target: string,
  from = 0,
  to = Infinity,
): UnifiedMetrics[] {
  return batches
    .filter((b) => b.target.name === target)
    .filter((b) => {
      const t = Date.parse(b.metadata.startedAt);
      return t >= from && t <= to;
    })
    .sort((a, b) => Date.parse(a.metadata.startedAt) - Date.parse(b.metadata.startedAt));
}

/** The batches of a collection cycle (not those of collectors with longer intervals only). */
export function cycles(batches: readonly UnifiedMetrics[]): UnifiedMetrics[] {
  return batches.filter((b) => b.metadata.collectors.some((s) => s.collector === CYCLE_MARK));
}

/** The probe's status in `database`. */
export function probeStatus(b: UnifiedMetrics, database: string) {
  return b.metadata.collectors.find((s) => s.collector === PROBE && s.database === database);
}

/** Sequences the probe reported in `database`. */
export function sequenceNames(b: UnifiedMetrics, database: string): unknown[] {
  return b.probes
    .filter((p) => p.probe === PROBE && p.database === database)
    .flatMap((p) => p.rows.map((r) => r.sequencename));
}

/** Largest time between the starts of consecutive batches, ms. */
export function largestGap(batches: readonly UnifiedMetrics[]): number {
  let gap = 0;
  for (let i = 1; i < batches.length; i += 1) {
    gap = Math.max(
      gap,
      Date.parse(batches[i]!.metadata.startedAt) - Date.parse(batches[i - 1]!.metadata.startedAt),
    );
  }
  return gap;
}

/**
 * Runs the daemon on both targets, locks pg_sequence in the locked database until the probe
 * timed out `timeouts` times, releases it, waits for the probe's rows again, stops the daemon.
 * Everything it starts is stopped before it returns or throws, except the daemon on a throw
 * (killDaemons in afterAll).
 */
export async function runHang(dbs: HangDatabases, c: HangCase): Promise<HangRun> {
  const locked = dbOf(dbs.lockedUrl);
  const output = path.join(dbs.dir, `batches-${c.label}.ndjson`);
  const config = path.join(dbs.dir, `config-${c.label}.yaml`);
  const every = `${c.intervalMs / 1000}s`;
  const configuration = {
    interval: every,
    otlp: { enabled: false },
    // Not the default 100 ms, which would fail the probe at once instead of letting it hang.
    connection: { lockTimeout: '60s' },
    collectors: { [PROBE]: { interval: every, ...c.probeSettings } },
    targets: [
      { name: HUNG, url: dbs.lockedUrl, databases: [locked, dbOf(dbs.freeUrl)] },
      { name: OTHER, url: dbs.otherUrl, databases: [dbOf(dbs.otherUrl)] },
    ],
  };
  await writeFile(config, JSON.stringify(configuration, null, 2), { mode: 0o600 });
  const cli = startDaemon(
    ['--config', config, '--output', 'json', '--output-file', output, '--log-format', 'json'],
    cleanEnv(),
  );
  const port = await cli.telemetryPort();
  const skipped = async (): Promise<number> =>
    metricValue((await scrape(port, '/metrics')).body, 'pgquerylens_scheduler_runs_total', {
      outcome: 'skipped',
    }) ?? 0;

  // The probe works in every database before the fault, in a regular cycle's batch.
  await pollUntil(
    'the probe reading fault_seq in every database, in a cycle after the first',
    async () => {
      const all = await batchesIn(output);
      const hung = cycles(ofTarget(all, HUNG)).slice(1);
      const other = cycles(ofTarget(all, OTHER)).slice(1);
      return (
        hung.some((b) =>
          [locked, dbOf(dbs.freeUrl)].every((d) => sequenceNames(b, d).includes('fault_seq')),
        ) && other.some((b) => sequenceNames(b, dbOf(dbs.otherUrl)).includes('fault_seq'))
      );
    },
    60_000,
  );
  const before = await skipped();

  const watch = await ActivityWatch.start(dbs.serverUrl, 'pgquerylens', PROBE_FRAGMENT);
  const locker = new pg.Client({
    connectionString: dbs.lockedUrl,
    application_name: 'fault-locker',
  });
  let lockedAt = 0;
  let releasedAt = 0;
  let atRelease: number;
  let plainReadLocked: string | undefined;
  let plainReadOther: string | undefined;
  try {
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE pg_catalog.pg_sequence IN ACCESS EXCLUSIVE MODE');
    lockedAt = Date.now();
    const read = "SET statement_timeout = '1s'; SELECT count(*) FROM pg_sequence";
    plainReadLocked = await sqlstateOf(queryOnce(dbs.lockedUrl, read));
    plainReadOther = await sqlstateOf(queryOnce(dbs.otherUrl, read));
    await pollUntil(
      `${c.timeouts} timed-out runs of the probe`,
      async () =>
        ofTarget(await batchesIn(output), HUNG, lockedAt).filter(
          (b) => probeStatus(b, locked)?.success === false,
        ).length >= c.timeouts,
      c.timeoutsWithinMs,
    );
    atRelease = await skipped();
    // Taken before the COMMIT: whatever finished by then certainly ran under the lock.
    releasedAt = Date.now();
    await locker.query('COMMIT');
  } finally {
    await locker.end().catch(() => undefined);
  }

  let recovered: UnifiedMetrics | undefined;
  try {
    await pollUntil(
      'the probe reading fault_seq again in the locked database',
      async () => {
        recovered = ofTarget(await batchesIn(output), HUNG, lockedAt).find(
          (b) =>
            Date.parse(b.metadata.finishedAt) >= releasedAt &&
            sequenceNames(b, locked).includes('fault_seq'),
        );
        return recovered !== undefined;
      },
      c.recoveryWithinMs,
    );
  } finally {
    await watch.stop();
  }
  const last = await skipped();
  const result = await cli.stop();
  const stderr = cli.stderr();
  return {
    batches: await batchesIn(output),
    lockedAt,
    releasedAt,
    recovered: recovered!,
    plainReadLocked,
    plainReadOther,
    skipped: { before, atRelease, last },
    // One line per target when runs start to overrun, naming the collectors.
    skipLines: logLines(stderr, 'previous run still in progress, skipped this one').flatMap((l) =>
      (Array.isArray(l.collectors) ? (l.collectors as unknown[]) : []).map(
        (c) => `${String(l.target)}/${String(c)}`,
      ),
    ),
    overrunEnds: logLines(stderr, 'overrunning run ended').map((l) => ({
      key: `${String(l.target)}/${String(l.collector)}`,
      skippedTurns: Number(l.skippedTurns),
    })),
    cadence: cadenceOf(stderr),
    watch,
    exitCode: result.code,
    stderr,
  };
}

async function sqlstateOf(query: Promise<unknown>): Promise<string> {
  try {
    await query;
    return '';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : 'no SQLSTATE';
  }
}

function logLines(stderr: string, msg: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(msg))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

/** collector → interval ms, from `collecting` (`collectors: ["name@8s", ...]`). */
function cadenceOf(stderr: string): Map<string, number> {
  const cadence = new Map<string, number>();
  const [line] = logLines(stderr, 'collecting');
  const collectors = Array.isArray(line?.collectors) ? (line.collectors as unknown[]) : [];
  for (const entry of collectors) {
    const [name, seconds] = String(entry).split('@');
    if (name !== undefined && seconds !== undefined)
      cadence.set(name, Number.parseFloat(seconds) * 1000);
  }
  return cadence;
}
