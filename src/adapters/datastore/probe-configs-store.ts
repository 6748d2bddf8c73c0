import type { Queryable } from './connections-store.js';

/** One row of `probe_configs`: the global setting of a probe, or one connection's override. */
export interface ProbeConfigRow {
  /** Name of the connection it overrides; undefined for the global row. */
  readonly connection?: string;
  readonly probe: string;
  readonly enabled?: boolean;
  readonly intervalMs?: number;
  readonly retentionDays?: number;
}

interface Row {
  connection: string | null;
  name: string;
  is_enabled: boolean | null;
  collection_interval_seconds: number | null;
  retention_days: number | null;
}

/** Every probe setting kept in the datastore. */
export async function probeConfigs(db: Queryable): Promise<ProbeConfigRow[]> {
  const result = await db.query<Row>(
    `SELECT c.name AS connection, p.name, p.is_enabled, p.collection_interval_seconds,
            p.retention_days
       FROM public.probe_configs p
       LEFT JOIN public.connections c ON c.id = p.connection_id
      ORDER BY p.connection_id NULLS FIRST, p.name`,
  );
  return result.rows.map((r) => ({
    ...(r.connection === null ? {} : { connection: r.connection }),
    probe: r.name,
    ...(r.is_enabled === null ? {} : { enabled: r.is_enabled }),
    ...(r.collection_interval_seconds === null
      ? {}
      : { intervalMs: r.collection_interval_seconds * 1000 }),
    ...(r.retention_days === null ? {} : { retentionDays: r.retention_days }),
  }));
}
