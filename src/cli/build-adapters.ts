import type pg from 'pg';
import type { ResolvedConfig } from '../core/config/resolved-config.js';
import type { ExportAdapter } from '../core/export-adapter.js';
import type { Logger } from '../core/logger.js';
import { JsonLinesAdapter } from '../adapters/output/json-lines-adapter.js';
import { NdjsonSpoolAdapter } from '../adapters/output/ndjson-spool-adapter.js';
import { SummaryAdapter } from '../adapters/output/summary-adapter.js';
import { createDatastoreExport } from './datastore-adapter-factory.js';

/**
 * The adapters a run exports to. The mode's own adapters (NRI, OTLP) arrive with their issues;
 * until then a mode without an output falls back to JSON lines on stdout and says so.
 */
export async function buildAdapters(
  config: ResolvedConfig,
  logger: Logger,
): Promise<BuiltAdapters> {
  const adapters: ExportAdapter[] = [];
  const closers: (() => Promise<void>)[] = [];
  let datastorePool: pg.Pool | undefined;
  const output = config.output;
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
  if (adapters.every((a) => a.name === 'datastore')) {
    logger.warn(
      `the ${config.mode} mode has no exporter of its own yet; writing JSON lines to stdout`,
      {
        mode: config.mode,
      },
    );
    adapters.push(new JsonLinesAdapter('-'));
  }
  return {
    adapters,
    ...(datastorePool === undefined ? {} : { datastorePool }),
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
  readonly close: () => Promise<void>;
}
