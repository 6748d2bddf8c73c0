import type { CollectContext, Collector } from '../../core/collector.js';
import type { CustomQuerySettings } from '../../core/config/custom-query-settings.js';
import { errorMessage } from '../../core/errors.js';
import type { CustomSampleInfo, ProbeSample } from '../../core/model/probe-sample.js';
import { redact } from '../../core/redact.js';
import type { QuerySession, Row } from '../../core/target-connector.js';
import { probeSample } from '../probe-sample.js';
import type { ConnectorLookup } from './target-connectors.js';

/** Name (and config key) of the custom-query collector. */
export const CUSTOM_QUERIES = 'custom_queries';

/** nri-postgresql's event type for CUSTOM_METRICS_QUERY rows. */
export const METRICS_QUERY_SAMPLE = 'PgCustomQuerySample';

/** Columns every CUSTOM_METRICS_QUERY row must have. */
const METRICS_QUERY_COLUMNS = ['metric_name', 'metric_type', 'metric_value'];

/** Whether any custom query is configured (the collector is on by default only then). */
export function hasCustomQueries(settings: CustomQuerySettings): boolean {
  return settings.metricsQuery !== undefined || settings.queries.length > 0;
}

/** One query to run, where, and how its rows are reported. */
interface Job {
  /** Position in configuration order, which the samples keep. */
  readonly index: number;
  /** Its configuration key, for messages. */
  readonly label: string;
  readonly sql: string;
  readonly database: string;
  readonly custom: CustomSampleInfo;
  /** Config-file queries report their database; the metrics query belongs to the instance. */
  readonly reportsDatabase: boolean;
}

interface Failure {
  readonly job: Job;
  readonly message: string;
}

/**
 * Runs the user's own SQL (nri-postgresql's CUSTOM_METRICS_QUERY and CUSTOM_METRICS_CONFIG)
 * once per server: each query on its database (default the target's), under
 * `customQueries.timeout`. Queries on the session's database use the run's session; another
 * database gets a connection of its own for the run, outside the pool: the run already holds
 * one of the target's permits, and waiting for a second would deadlock when there is only one.
 * A failing query is logged and the others still report; when every query fails, the run does.
 */
export function customQueriesCollector(
  settings: CustomQuerySettings,
  connectors?: ConnectorLookup,
): Collector {
  const collector: Collector = {
    name: CUSTOM_QUERIES,
    scope: 'server',
    description:
      'Your own SQL (customQueries; nri-postgresql CUSTOM_METRICS_QUERY and CUSTOM_METRICS_CONFIG)',
    async collect(ctx) {
      const jobs = jobsOf(settings, ctx.session.facts.database);
      if (jobs.length === 0) return {};
      const samples: (ProbeSample | undefined)[] = jobs.map(() => undefined);
      const failures: Failure[] = [];
      const run = async (session: QuerySession, job: Job): Promise<void> => {
        try {
          const rows = await runJob(session, job, settings.timeoutMs);
          samples[job.index] = sampleOf(collector, ctx, job, rows);
        } catch (err) {
          failures.push({ job, message: redact(errorMessage(err)) });
        }
      };
      const own = jobs.filter((j) => j.database === ctx.session.facts.database);
      const others = groupByDatabase(jobs.filter((j) => !own.includes(j)));
      await Promise.all([
        (async () => {
          for (const job of own) await run(ctx.session, job);
        })(),
        (async () => {
          // One extra connection at a time: a custom query file must not fan out connections.
          for (const [database, group] of others) {
            await onDatabase(ctx, connectors, database, group, run, failures);
          }
        })(),
      ]);
      const reported = samples.filter((s): s is ProbeSample => s !== undefined);
      failures.sort((a, b) => a.job.index - b.job.index);
      if (failures.length > 0 && reported.length === 0) {
        throw new Error(failures.map(describeFailure).join('; '));
      }
      for (const f of failures) {
        ctx.logger.warn('custom query failed', {
          query: f.job.label,
          database: f.job.database,
          err: f.message,
        });
      }
      return { probes: reported };
    },
  };
  return collector;
}

function jobsOf(settings: CustomQuerySettings, defaultDatabase: string): Job[] {
  const jobs: Job[] = [];
  if (settings.metricsQuery !== undefined) {
    jobs.push({
      index: jobs.length,
      label: 'customQueries.metricsQuery',
      sql: settings.metricsQuery,
      database: defaultDatabase,
      custom: { form: 'metrics-query', sampleName: METRICS_QUERY_SAMPLE, metricTypes: {} },
      reportsDatabase: false,
    });
  }
  settings.queries.forEach((q, index) => {
    jobs.push({
      index: jobs.length,
      label: `customQueries.queries[${index}]`,
      sql: q.query,
      database: q.database ?? defaultDatabase,
      custom: { form: 'columns', sampleName: q.sampleName, metricTypes: q.metricTypes },
      reportsDatabase: true,
    });
  });
  return jobs;
}

async function runJob(session: QuerySession, job: Job, timeoutMs: number): Promise<Row[]> {
  const rows: unknown = await session.query(job.sql, undefined, { timeoutMs });
  // Several statements in one string come back as several results, which nothing can map.
  if (!Array.isArray(rows)) throw new Error('must be a single SQL statement');
  const first = rows[0] as Row | undefined;
  if (job.custom.form === 'metrics-query' && first !== undefined) {
    const missing = METRICS_QUERY_COLUMNS.filter((c) => !Object.hasOwn(first, c));
    if (missing.length > 0) {
      throw new Error(
        `the metrics query must return ${METRICS_QUERY_COLUMNS.join(', ')} (missing ${missing.join(', ')})`,
      );
    }
  }
  return rows as Row[];
}

/** Runs a group of queries on another database over a connection opened for this run. */
async function onDatabase(
  ctx: CollectContext,
  connectors: ConnectorLookup | undefined,
  database: string,
  jobs: readonly Job[],
  run: (session: QuerySession, job: Job) => Promise<void>,
  failures: Failure[],
): Promise<void> {
  const connector = connectors?.(ctx.target.name);
  if (connector?.openDedicated === undefined) {
    for (const job of jobs) {
      failures.push({ job, message: `no way to connect to database ${database} on this target` });
    }
    return;
  }
  let session;
  try {
    session = await connector.openDedicated(database);
  } catch (err) {
    const message = `cannot connect to database ${database}: ${redact(errorMessage(err))}`;
    for (const job of jobs) failures.push({ job, message });
    return;
  }
  const opened = session;
  // Closing the connection ends a query still running past the collector's deadline.
  const abort = (): void => void opened.close();
  ctx.signal.addEventListener('abort', abort, { once: true });
  try {
    for (const job of jobs) {
      if (ctx.signal.aborted) break;
      await run(opened, job);
    }
  } finally {
    ctx.signal.removeEventListener('abort', abort);
    await opened.close();
  }
}

function groupByDatabase(jobs: readonly Job[]): Map<string, Job[]> {
  const groups = new Map<string, Job[]>();
  for (const job of jobs) {
    const group = groups.get(job.database);
    if (group === undefined) groups.set(job.database, [job]);
    else group.push(job);
  }
  return groups;
}

function sampleOf(collector: Collector, ctx: CollectContext, job: Job, rows: Row[]): ProbeSample {
  const sample = probeSample(collector, ctx, rows);
  return {
    ...sample,
    ...(job.reportsDatabase ? { database: job.database } : {}),
    custom: job.custom,
  };
}

function describeFailure(f: Failure): string {
  return `${f.job.label} (database ${f.job.database}): ${f.message}`;
}
