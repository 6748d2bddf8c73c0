import type pg from 'pg';
import { MemoryBatchBuffer, type BatchBuffer } from '../adapters/datastore/batch-buffer.js';
import { DatastoreAdapter } from '../adapters/datastore/datastore-adapter.js';
import { DatastoreMaintenance } from '../adapters/datastore/datastore-maintenance.js';
import { SpoolBatchBuffer } from '../adapters/datastore/spool-batch-buffer.js';
import { builtinProbeSchemas } from '../collectors/builtin-collectors.js';
import type { ResolvedConfig, ResolvedDatastore } from '../core/config/resolved-config.js';
import type { Logger } from '../core/logger.js';
import { openDatastore } from './open-datastore.js';

/** The datastore adapter and what to stop after it shut down. */
export interface DatastoreExport {
  readonly adapter: DatastoreAdapter;
  /** The datastore's pool, also read for stored connections; ended by the adapter's shutdown. */
  readonly pool: pg.Pool;
  readonly close: () => Promise<void>;
}

/**
 * The history adapter for `datastore.url`: its pool (or embedded server), a memory buffer or a
 * spool on disk, and housekeeping (partitions ahead, GC) once the schema is in place.
 */
export async function createDatastoreExport(
  config: ResolvedConfig,
  datastore: ResolvedDatastore,
  logger: Logger,
): Promise<DatastoreExport> {
  const log = logger.child({ adapter: 'datastore' });
  const opened = await openDatastore(datastore, log);
  const schemas = builtinProbeSchemas();
  const buffer: BatchBuffer =
    datastore.spoolDir === undefined
      ? new MemoryBatchBuffer(datastore.bufferRows)
      : await SpoolBatchBuffer.open(datastore.spoolDir, datastore.spoolMaxMb * 1024 * 1024, log);
  let maintenance: DatastoreMaintenance | undefined;
  const adapter = new DatastoreAdapter({
    pool: opened.pool,
    schemas,
    buffer,
    logger: log,
    owner: datastore.owner,
    onReady: async (writer) => {
      maintenance = new DatastoreMaintenance({
        pool: opened.pool,
        partitions: writer.partitions,
        schemas,
        logger: log,
        configuredRetentionDays: (probe) => config.collectors[probe]?.retentionDays,
      });
      await maintenance.start();
    },
  });
  adapter.start();
  return {
    adapter,
    pool: opened.pool,
    close: async () => {
      maintenance?.stop();
      await opened.close();
    },
  };
}
