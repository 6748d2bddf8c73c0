/**
 * Data-point attribute names. The first three are the receiver's semconv-mode names (see
 * db-namespace.ts); the `postgresql.*` ones follow its event attributes (`postgresql.state`,
 * `postgresql.wait_event_type`, ...) so metrics and events facet the same way; the unprefixed
 * ones (`source`, `type`, `state`, `operation`, `replication_client`, `function`) are the
 * receiver's own and are kept only on the metrics it defines.
 */
export const ATTR = {
  dbNamespace: 'db.namespace',
  dbCollectionName: 'db.collection.name',
  indexName: 'postgresql.index.name',
  // Receiver-defined, on receiver metrics only.
  source: 'source',
  type: 'type',
  state: 'state',
  operation: 'operation',
  function: 'function',
  replicationClient: 'replication_client',
  conflictType: 'postgresql.conflict.type',
  // Ours.
  sessionState: 'postgresql.state',
  waitEventType: 'postgresql.wait_event_type',
  waitEvent: 'postgresql.wait_event',
  backendType: 'postgresql.backend_type',
  lockType: 'postgresql.lock.type',
  lockMode: 'postgresql.lock.mode',
  lockGranted: 'postgresql.lock.granted',
  ioObject: 'postgresql.io.object',
  ioContext: 'postgresql.io.context',
  ioOperation: 'postgresql.io.operation',
  diskIoDirection: 'disk.io.direction',
  networkIoDirection: 'network.io.direction',
  maintenanceType: 'postgresql.maintenance.type',
  sessionTerminationReason: 'postgresql.session.termination.reason',
  slotName: 'postgresql.replication.slot.name',
  slotType: 'postgresql.replication.slot.type',
  sequenceName: 'postgresql.sequence.name',
  planChangeKind: 'postgresql.plan_change.kind',
  userName: 'user.name',
  pgbouncerConnectionState: 'pgbouncer.connection.state',
} as const;
