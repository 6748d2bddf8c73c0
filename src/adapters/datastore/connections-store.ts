import type pg from 'pg';

/** Anything that runs a query: the datastore pool or one of its clients. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/** A connection to store; the password, if any, is already encrypted (password-crypto.ts). */
export interface NewConnection {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  readonly username?: string;
  /** base64 from encryptPassword; never a plain password. */
  readonly passwordEncrypted?: string;
  readonly sslmode?: string;
  readonly sslcert?: string;
  readonly sslkey?: string;
  readonly sslrootcert?: string;
  /** Who owns the connection (row-level security of readers follows it). */
  readonly ownerUsername: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Default true. */
  readonly isMonitored?: boolean;
  /** Default true. */
  readonly enabled?: boolean;
}

/** A stored connection as listed: everything but the password, which is only said to exist. */
export interface ConnectionSummary {
  readonly id: number;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  readonly username: string | null;
  readonly hasPassword: boolean;
  readonly sslmode: string | null;
  readonly sslcert: string | null;
  readonly sslkey: string | null;
  readonly sslrootcert: string | null;
  readonly ownerUsername: string | null;
  /** The owner is an API token rather than a user (pgEdge); the token itself is not listed. */
  readonly ownedByToken: boolean;
  readonly isMonitored: boolean;
  readonly enabled: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly source: 'datastore' | 'config';
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A connection the daemon should monitor; decrypt `passwordEncrypted` with decryptPassword. */
export interface MonitoredConnection {
  readonly id: number;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  readonly username: string | null;
  readonly passwordEncrypted: string | null;
  readonly sslmode: string | null;
  readonly sslcert: string | null;
  readonly sslkey: string | null;
  readonly sslrootcert: string | null;
  readonly labels: Readonly<Record<string, string>>;
  /** Changes when the row does: a reader can tell which targets to rebuild. */
  readonly updatedAt: Date;
}

/** Another connection already has this name (names are unique, whatever their source). */
export class DuplicateConnectionError extends Error {
  readonly connectionName: string;
  constructor(name: string) {
    super(`a connection named ${name} already exists`);
    this.name = 'DuplicateConnectionError';
    this.connectionName = name;
  }
}

/** What removeConnection did. */
export type RemoveOutcome =
  | 'removed'
  | 'not_found'
  /** The row belongs to a collector's configuration file and is left alone. */
  | 'config_managed';

/** Stores a datastore-managed connection and returns its id. */
export async function addConnection(db: Queryable, conn: NewConnection): Promise<number> {
  try {
    const result = await db.query<{ id: number }>(
      `INSERT INTO public.connections
         (name, host, port, database_name, username, password_encrypted, sslmode, sslcert,
          sslkey, sslrootcert, owner_username, is_monitored, enabled, labels, source)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, 'datastore')
       RETURNING id`,
      [
        conn.name,
        conn.host,
        conn.port,
        conn.databaseName,
        conn.username ?? null,
        conn.passwordEncrypted ?? null,
        conn.sslmode ?? null,
        conn.sslcert ?? null,
        conn.sslkey ?? null,
        conn.sslrootcert ?? null,
        conn.ownerUsername,
        conn.isMonitored ?? true,
        conn.enabled ?? true,
        JSON.stringify(conn.labels),
      ],
    );
    const id = result.rows[0]?.id;
    if (id === undefined) throw new Error(`connection ${conn.name} was not stored`);
    return id;
  } catch (err) {
    if (isUniqueViolation(err, 'connections_name_key')) {
      throw new DuplicateConnectionError(conn.name);
    }
    throw err;
  }
}

interface SummaryRow {
  id: number;
  name: string;
  host: string;
  port: number;
  database_name: string;
  username: string | null;
  has_password: boolean;
  sslmode: string | null;
  sslcert: string | null;
  sslkey: string | null;
  sslrootcert: string | null;
  owner_username: string | null;
  owned_by_token: boolean;
  is_monitored: boolean;
  enabled: boolean;
  labels: Record<string, string> | null;
  source: 'datastore' | 'config';
  created_at: Date;
  updated_at: Date;
}

/** Every stored connection, by name. The encrypted password is not even read. */
export async function listConnections(db: Queryable): Promise<ConnectionSummary[]> {
  const result = await db.query<SummaryRow>(
    `SELECT id, name, host, port, database_name, username,
            password_encrypted IS NOT NULL AS has_password,
            sslmode, sslcert, sslkey, sslrootcert, owner_username,
            owner_token IS NOT NULL AS owned_by_token,
            is_monitored, enabled, labels, source, created_at, updated_at
       FROM public.connections
      ORDER BY name`,
  );
  return result.rows.map((r) => ({
    id: r.id,
    name: r.name,
    host: r.host,
    port: r.port,
    databaseName: r.database_name,
    username: r.username,
    hasPassword: r.has_password,
    sslmode: r.sslmode,
    sslcert: r.sslcert,
    sslkey: r.sslkey,
    sslrootcert: r.sslrootcert,
    ownerUsername: r.owner_username,
    ownedByToken: r.owned_by_token,
    isMonitored: r.is_monitored,
    enabled: r.enabled,
    labels: r.labels ?? {},
    source: r.source,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

/**
 * Removes a datastore-managed connection (and, by cascade, its probe overrides). Rows a
 * collector registered for its configuration file are not removed: it would register them
 * again under a new id.
 */
export async function removeConnection(db: Queryable, name: string): Promise<RemoveOutcome> {
  const result = await db.query<{ source: string | null; removed: number }>(
    `WITH found AS (
       SELECT id, source FROM public.connections WHERE name = $1
     ), removed AS (
       DELETE FROM public.connections c USING found f
        WHERE c.id = f.id AND f.source = 'datastore'
       RETURNING c.id
     )
     SELECT (SELECT source FROM found) AS source, (SELECT count(*) FROM removed)::int AS removed`,
    [name],
  );
  const row = result.rows[0];
  if (row === undefined || row.source === null) return 'not_found';
  return row.removed > 0 ? 'removed' : 'config_managed';
}

interface MonitoredRow {
  id: number;
  name: string;
  host: string;
  port: number;
  database_name: string;
  username: string | null;
  password_encrypted: string | null;
  sslmode: string | null;
  sslcert: string | null;
  sslkey: string | null;
  sslrootcert: string | null;
  labels: Record<string, string> | null;
  updated_at: Date;
}

/** The connections the daemon monitors: managed here, monitored and enabled. */
export async function monitoredConnections(db: Queryable): Promise<MonitoredConnection[]> {
  const result = await db.query<MonitoredRow>(
    `SELECT id, name, host, port, database_name, username, password_encrypted,
            sslmode, sslcert, sslkey, sslrootcert, labels, updated_at
       FROM public.connections
      WHERE source = 'datastore' AND is_monitored AND enabled
      ORDER BY name`,
  );
  return result.rows.map((r) => ({
    id: r.id,
    name: r.name,
    host: r.host,
    port: r.port,
    databaseName: r.database_name,
    username: r.username,
    passwordEncrypted: r.password_encrypted,
    sslmode: r.sslmode,
    sslcert: r.sslcert,
    sslkey: r.sslkey,
    sslrootcert: r.sslrootcert,
    labels: r.labels ?? {},
    updatedAt: r.updated_at,
  }));
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === constraint;
}
