import type pg from 'pg';
import type { ResolvedConfig } from '../core/config/resolved-config.js';
import { ConfigError } from '../core/errors.js';
import type { ExportAdapter } from '../core/export-adapter.js';
import type { Logger } from '../core/logger.js';
import { NriAdapter } from '../adapters/nri/nri-adapter.js';
import { PrometheusPullAdapter } from '../adapters/prometheus/prometheus-pull-adapter.js';
import { JsonLinesAdapter } from '../adapters/output/json-lines-adapter.js';
import { LineWriter } from '../adapters/output/line-writer.js';
import { NdjsonSpoolAdapter } from '../adapters/output/ndjson-spool-adapter.js';
import { SummaryAdapter } from '../adapters/output/summary-adapter.js';
import { createDatastoreExport } from './datastore-adapter-factory.js';
import { targetStateKey } from './target-state-key.js';
import { VERSION } from './version.js';

/** How often a long-running NRI integration proves it is alive when it has nothing to say. */
const NRI_HEARTBEAT_MS = 15_000;

/**
 * The adapters a run exports to: the mode's own (NRI in `nri` and `hybrid`, OTLP metrics in
 * `otel` and `hybrid`), the optional output and the datastore.
 */
export async function buildAdapters(
  config: ResolvedConfig,
  logger: Logger,
  stateDir?: string,
): Promise<BuiltAdapters> {
  const adapters: ExportAdapter[] = [];
  const closers: (() => Promise<void>)[] = [];
  let datastorePool: pg.Pool | undefined;
  const output = config.output;
  const nri = config.mode === 'nri' || config.mode === 'hybrid';
  if (nri && output !== undefined && output.format !== 'file' && output.path === '-') {
    // The agent parses every stdout line as a payload; anything else there is an error in its log.
    throw new ConfigError([
      {
        path: 'output.path',
        message: `stdout carries NRI payloads in the ${config.mode} mode; write --output to a file (--output-file)`,
      },
    ]);
  }
  if (nri) {
    const stdout = new LineWriter('-');
    adapters.push(
      new NriAdapter({
        settings: config.nri,
        ...(stateDir === undefined ? {} : { stateDir }),
        stateKey: targetStateKey(config),
        integrationVersion: VERSION,
        intervalMs: config.intervalMs,
        writeLine: (line, signal) => stdout.write(line, signal),
        logger,
        ...(config.mode === 'hybrid' || config.nri.daemon ? { heartbeatMs: NRI_HEARTBEAT_MS } : {}),
      }),
    );
  }
  if ((config.mode === 'otel' || config.mode === 'hybrid') && config.otlp.enabled) {
    // Loaded only here: the OpenTelemetry SDK is most of a process's memory, and the NRI
    // mode, started afresh by the agent every interval, never needs it.
    const { OtlpMetricsAdapter } = await import('../adapters/otlp/otlp-metrics-adapter.js');
    adapters.push(new OtlpMetricsAdapter({ settings: config.otlp, version: VERSION, logger }));
    if (config.otlpLogs.enabled) {
      const { OtlpLogsAdapter } = await import('../adapters/otlp/otlp-logs-adapter.js');
      adapters.push(
        new OtlpLogsAdapter({
          settings: config.otlpLogs,
          metrics: config.otlp,
          version: VERSION,
          logger,
        }),
      );
    }
  }
  let prometheus: PrometheusPullAdapter | undefined;
  if (config.telemetry.prometheus) {
    prometheus = new PrometheusPullAdapter({ intervalMs: config.intervalMs });
    adapters.push(prometheus);
  }
  if (output !== undefined) {
    adapters.push(
      output.format === 'summary'
        ? new SummaryAdapter(output.path)
        : output.format === 'file'
          ? new NdjsonSpoolAdapter({ dir: output.spoolDir ?? '.', logger })
          : new JsonLinesAdapter(output.path),
    );
  }
  const datastore = config.datastore;
  if (datastore?.url !== undefined) {
    const history = await createDatastoreExport(config, datastore, logger);
    adapters.push(history.adapter);
    closers.push(history.close);
    datastorePool = history.pool;
  }
  return {
    adapters,
    ...(datastorePool === undefined ? {} : { datastorePool }),
    ...(prometheus === undefined ? {} : { prometheus }),
    close: async () => {
      for (const close of closers) await close();
    },
  };
}

/** The run's adapters and what to release after they shut down. */
export interface BuiltAdapters {
  readonly adapters: ExportAdapter[];
  /** Set when a datastore is configured: stored connections and probe settings are read there. */
  readonly datastorePool?: pg.Pool;
  /** Set when /metrics also serves the PostgreSQL metrics (`telemetry.prometheus`). */
  readonly prometheus?: PrometheusPullAdapter;
  readonly close: () => Promise<void>;
}
