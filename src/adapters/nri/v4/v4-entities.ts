import type { DatabaseObjectRef } from '../../../core/semantic-metrics/metric-types.js';
import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import type { V4AttributeValue, V4Entity } from './v4-types.js';

/** Whether the batch describes a PgBouncer target rather than a PostgreSQL server. */
export function isPgbouncerBatch(batch: UnifiedMetrics): boolean {
  return (
    /pgbouncer/i.test(batch.server.version ?? '') ||
    batch.probes.some((s) => s.probe.startsWith('pgbouncer_'))
  );
}

/** `host:port`, the server part of every entity name (the agent swaps a loopback host). */
function serverName(batch: UnifiedMetrics): string {
  return `${batch.target.host}:${batch.target.port}`;
}

/** Metadata every entity of the target shares: where it runs and the user's labels. */
function serverMetadata(batch: UnifiedMetrics): Record<string, V4AttributeValue> {
  const meta: Record<string, V4AttributeValue> = {
    host: batch.target.host,
    port: batch.target.port,
    target: batch.target.name,
  };
  if (batch.server.version !== undefined) meta.server_version = batch.server.version;
  if (batch.target.systemIdentifier !== undefined) {
    meta.system_identifier = batch.target.systemIdentifier;
  }
  for (const [key, value] of Object.entries(batch.target.labels)) meta[`label.${key}`] = value;
  return meta;
}

/** The entity server-level points and the inventory belong to: the instance or the pooler. */
export function rootEntity(batch: UnifiedMetrics): V4Entity {
  return {
    name: serverName(batch),
    type: isPgbouncerBatch(batch) ? 'pgbouncer' : 'pg-instance',
    displayName: batch.target.name,
    metadata: serverMetadata(batch),
  };
}

/**
 * The entity of a database object. Protocol 4 has no id attributes, so names embed the server:
 * `host:port/db`, `host:port/db/schema.table`, `host:port/db/schema.table/index`; the
 * display name is the part a person looks for (db, `schema.table`, `schema.index`).
 */
export function objectEntity(batch: UnifiedMetrics, object: DatabaseObjectRef): V4Entity {
  const server = serverName(batch);
  const base = serverMetadata(batch);
  const db = `${server}/${object.database}`;
  const { schema, table, index } = object;
  if (schema !== undefined && table !== undefined) {
    const qualified = `${schema}.${table}`;
    if (index !== undefined) {
      return {
        name: `${db}/${qualified}/${index}`,
        type: 'pg-index',
        displayName: `${schema}.${index}`,
        metadata: { ...base, database: object.database, schema, table, index },
      };
    }
    return {
      name: `${db}/${qualified}`,
      type: 'pg-table',
      displayName: qualified,
      metadata: { ...base, database: object.database, schema, table },
    };
  }
  return {
    name: db,
    type: 'pg-database',
    displayName: object.database,
    metadata: { ...base, database: object.database },
  };
}

/**
 * Where a point or event goes: its object's entity on a PostgreSQL target, the root otherwise
 * (PgBouncer points name pools, not databases of this server).
 */
export function entityFor(
  batch: UnifiedMetrics,
  root: V4Entity,
  object: DatabaseObjectRef | undefined,
): V4Entity {
  return object === undefined || root.type === 'pgbouncer' ? root : objectEntity(batch, object);
}
