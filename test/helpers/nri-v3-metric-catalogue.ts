/**
 * nri-postgresql's protocol v3 metric catalogue (event types, entity naming, every attribute
 * with its JSON type), transcribed from the research notes on nri-postgresql's definitions.
 * Test data only: the adapter never imports it, so a test that compares the two catches a
 * renamed or missing attribute on either side.
 */

/** How the SDK types a value in the JSON. */
export type CatalogueValueType = 'number' | 'string';

/** One attribute of a metric set. */
export interface CatalogueAttribute {
  readonly name: string;
  readonly type: CatalogueValueType;
  /** nri's source type. */
  readonly source: 'gauge' | 'rate' | 'attribute';
  /** The value is always a whole number (counts, sizes, epoch seconds). */
  readonly integer?: boolean;
  /** PostgreSQL majors that report it (inclusive bounds). */
  readonly since?: number;
  readonly until?: number;
  /** May be absent: its source can be NULL, or only some PgBouncer releases have the column. */
  readonly optional?: boolean;
}

/** One kind of set of an event type (one nri query definition). */
export interface CatalogueSet {
  /** Our label for it: `A`, `B`, `locks`, `table`, `bloat`, `stats`, `pools`, ... */
  readonly label: string;
  readonly attributes: readonly CatalogueAttribute[];
}

/** An event type with the entity it is reported on. */
export interface CatalogueEventType {
  readonly eventType: string;
  readonly entityType: string;
  /** Identity attribute keys, sorted as the SDK prints them. */
  readonly idAttributes: readonly string[];
  /** The set's namespace attributes after `event_type`, in order. */
  readonly namespace: readonly string[];
  /** `entityName` = prefix + entity name (the instance's name is `host:port`). */
  readonly entityNamePrefix: string;
  readonly sets: readonly CatalogueSet[];
}

const rate = (name: string, extra: Partial<CatalogueAttribute> = {}): CatalogueAttribute => ({
  name,
  type: 'number',
  source: 'rate',
  ...extra,
});

const gauge = (name: string, extra: Partial<CatalogueAttribute> = {}): CatalogueAttribute => ({
  name,
  type: 'number',
  source: 'gauge',
  ...extra,
});

const count = (name: string, extra: Partial<CatalogueAttribute> = {}): CatalogueAttribute =>
  gauge(name, { integer: true, ...extra });

/** §2.2: all rates; the checkpoint and backend counters moved out of pg_stat_bgwriter in 17. */
const INSTANCE: CatalogueEventType = {
  eventType: 'PostgresqlInstanceSample',
  entityType: 'pg-instance',
  idAttributes: [],
  namespace: ['displayName', 'entityName'],
  entityNamePrefix: 'pg-instance:',
  sets: [
    {
      label: 'instance',
      attributes: [
        rate('bgwriter.checkpointsScheduledPerSecond', { until: 16 }),
        rate('bgwriter.checkpointsRequestedPerSecond', { until: 16 }),
        rate('bgwriter.buffersWrittenForCheckpointsPerSecond', { until: 16 }),
        rate('bgwriter.buffersWrittenByBackgroundWriterPerSecond'),
        rate('bgwriter.backgroundWriterStopsPerSecond'),
        rate('bgwriter.buffersWrittenByBackendPerSecond', { until: 16 }),
        rate('bgwriter.buffersAllocatedPerSecond'),
        rate('bgwriter.backendFsyncCallsPerSecond', { until: 16 }),
        rate('bgwriter.checkpointWriteTimeInMillisecondsPerSecond', { until: 16 }),
        rate('bgwriter.checkpointSyncTimeInMillisecondsPerSecond', { until: 16 }),
        rate('checkpointer.checkpointsScheduledPerSecond', { since: 17 }),
        rate('checkpointer.checkpointsRequestedPerSecond', { since: 17 }),
        rate('checkpointer.buffersWrittenForCheckpointsPerSecond', { since: 17 }),
        rate('checkpointer.checkpointWriteTimeInMillisecondsPerSecond', { since: 17 }),
        rate('checkpointer.checkpointSyncTimeInMillisecondsPerSecond', { since: 17 }),
        rate('io.buffersWrittenByBackendPerSecond', { since: 17 }),
        rate('io.backendFsyncCallsPerSecond', { since: 17 }),
      ],
    },
  ],
};

/** §2.3: set A (activity, conflicts), set B (9.2+), set C (locks, when enabled). */
const DATABASE: CatalogueEventType = {
  eventType: 'PostgresqlDatabaseSample',
  entityType: 'pg-database',
  idAttributes: ['host', 'port'],
  namespace: ['displayName', 'entityName'],
  entityNamePrefix: 'database:',
  sets: [
    {
      label: 'A',
      attributes: [
        count('db.maxconnections'),
        count('db.connections'),
        rate('db.commitsPerSecond'),
        rate('db.rollbacksPerSecond'),
        rate('db.readsPerSecond'),
        rate('db.bufferHitsPerSecond'),
        rate('db.rowsReturnedPerSecond'),
        rate('db.rowsFetchedPerSecond'),
        rate('db.rowsInsertedPerSecond'),
        rate('db.rowsUpdatedPerSecond'),
        rate('db.rowsDeletedPerSecond'),
        rate('db.conflicts.tablespacePerSecond'),
        rate('db.conflicts.locksPerSecond'),
        rate('db.conflicts.snapshotPerSecond'),
        rate('db.conflicts.bufferpinPerSecond'),
        rate('db.conflicts.deadlockPerSecond'),
      ],
    },
    {
      label: 'B',
      attributes: [
        rate('db.tempFilesCreatedPerSecond'),
        rate('db.tempWrittenInBytesPerSecond'),
        rate('db.deadlocksPerSecond'),
        rate('db.readTimeInMillisecondsPerSecond'),
        rate('db.writeTimeInMillisecondsPerSecond'),
      ],
    },
    {
      label: 'locks',
      attributes: [
        count('db.locks.accessExclusiveLock'),
        count('db.locks.accessShareLock'),
        count('db.locks.exclusiveLock'),
        count('db.locks.rowExclusiveLock'),
        count('db.locks.rowShareLock'),
        count('db.locks.shareLock'),
        count('db.locks.shareRowExclusiveLock'),
        count('db.locks.shareUpdateExclusiveLock'),
      ],
    },
  ],
};

/** §2.4: the table query and the bloat query, each its own set on the same entity. */
const TABLE: CatalogueEventType = {
  eventType: 'PostgresqlTableSample',
  entityType: 'pg-table',
  idAttributes: ['host', 'pg-database', 'pg-schema', 'port'],
  namespace: ['displayName', 'entityName', 'database', 'schema'],
  entityNamePrefix: 'table:',
  sets: [
    {
      label: 'table',
      attributes: [
        count('table.totalSizeInBytes'),
        count('table.indexSizeInBytes'),
        count('table.liveRows'),
        count('table.deadRows'),
        // NULL for a table without indexes.
        rate('table.indexBlocksReadPerSecond', { optional: true }),
        rate('table.indexBlocksHitPerSecond', { optional: true }),
        // NULL without a TOAST table.
        rate('table.indexToastBlocksReadPerSecond', { optional: true }),
        rate('table.indexToastBlocksHitPerSecond', { optional: true }),
        // NULL until the table is first vacuumed / analyzed.
        count('table.lastVacuum', { optional: true }),
        count('table.lastAutoVacuum', { optional: true }),
        count('table.lastAnalyze', { optional: true }),
        count('table.lastAutoAnalyze', { optional: true }),
        rate('table.sequentialScansPerSecond'),
        rate('table.sequentialScanRowsFetchedPerSecond'),
        // NULL for a table without indexes.
        rate('table.indexScansPerSecond', { optional: true }),
        rate('table.indexScanRowsFetchedPerSecond', { optional: true }),
        rate('table.rowsInsertedPerSecond'),
        rate('table.rowsUpdatedPerSecond'),
        rate('table.rowsDeletedPerSecond'),
      ],
    },
    {
      label: 'bloat',
      attributes: [
        count('table.bloatSizeInBytes'),
        count('table.dataSizeInBytes'),
        gauge('table.bloatRatio'),
      ],
    },
  ],
};

/** §2.5. */
const INDEX: CatalogueEventType = {
  eventType: 'PostgresqlIndexSample',
  entityType: 'pg-index',
  idAttributes: ['host', 'pg-database', 'pg-schema', 'pg-table', 'port'],
  namespace: ['displayName', 'entityName', 'database', 'schema', 'table'],
  entityNamePrefix: 'index:',
  sets: [
    {
      label: 'index',
      attributes: [
        count('index.sizeInBytes'),
        rate('index.rowsReadPerSecond'),
        rate('index.rowsFetchedPerSecond'),
      ],
    },
  ],
};

/** §2.6: SHOW STATS and SHOW POOLS; columns differ between PgBouncer releases. */
const PGBOUNCER: CatalogueEventType = {
  eventType: 'PgBouncerSample',
  entityType: 'pgbouncer',
  idAttributes: ['host', 'port'],
  namespace: ['displayName', 'entityName', 'host'],
  entityNamePrefix: 'pgbouncer:',
  sets: [
    {
      label: 'stats',
      attributes: [
        rate('pgbouncer.stats.transactionsPerSecond'),
        rate('pgbouncer.stats.queriesPerSecond'),
        count('pgbouncer.stats.totalServerAssignmentCount', { optional: true }),
        rate('pgbouncer.stats.bytesInPerSecond'),
        rate('pgbouncer.stats.bytesOutPerSecond'),
        rate('pgbouncer.stats.totalTransactionDurationInMillisecondsPerSecond'),
        rate('pgbouncer.stats.totalQueryDurationInMillisecondsPerSecond'),
        rate('pgbouncer.stats.requestsPerSecond', { optional: true }),
        count('pgbouncer.stats.avgTransactionCount'),
        count('pgbouncer.stats.avgTransactionDurationInMilliseconds'),
        count('pgbouncer.stats.avgQueryCount'),
        count('pgbouncer.stats.avgServerAssignmentCount', { optional: true }),
        count('pgbouncer.stats.avgBytesIn'),
        count('pgbouncer.stats.avgBytesOut'),
        count('pgbouncer.stats.avgRequestsPerSecond', { optional: true }),
        count('pgbouncer.stats.avgQueryDurationInMilliseconds'),
      ],
    },
    {
      label: 'pools',
      attributes: [
        { name: 'pgbouncer.pools.user', type: 'string', source: 'attribute' },
        count('pgbouncer.pools.clientConnectionsCancelReq', { optional: true }),
        count('pgbouncer.pools.clientConnectionsActive'),
        count('pgbouncer.pools.clientConnectionsWaiting'),
        count('pgbouncer.pools.clientConnectionsWaitingCancelReq', { optional: true }),
        count('pgbouncer.pools.clientConnectionsActiveCancelReq', { optional: true }),
        count('pgbouncer.pools.serverConnectionsActiveCancel', { optional: true }),
        count('pgbouncer.pools.serverConnectionsBeingCancel', { optional: true }),
        count('pgbouncer.pools.serverConnectionsActive'),
        count('pgbouncer.pools.serverConnectionsIdle'),
        count('pgbouncer.pools.serverConnectionsUsed'),
        count('pgbouncer.pools.serverConnectionsTested'),
        count('pgbouncer.pools.serverConnectionsLogin'),
        count('pgbouncer.pools.maxwaitInMilliseconds'),
      ],
    },
  ],
};

/** Every non-QPM event type, by name. */
export const NRI_V3_CATALOGUE: Readonly<Record<string, CatalogueEventType>> = Object.fromEntries(
  [INSTANCE, DATABASE, TABLE, INDEX, PGBOUNCER].map((e) => [e.eventType, e]),
);

/** Whether PostgreSQL `major` reports the attribute. */
export function appliesTo(attribute: CatalogueAttribute, major: number): boolean {
  return (
    (attribute.since === undefined || major >= attribute.since) &&
    (attribute.until === undefined || major <= attribute.until)
  );
}

/** Inventory fields nri files per pg_settings row (§2.8). */
export const NRI_V3_INVENTORY_FIELDS = ['setting', 'boot_val', 'reset_val'] as const;
