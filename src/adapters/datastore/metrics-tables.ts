import type pg from 'pg';
import type { ProbeColumnType, ProbeSchema } from '../../core/probe-schema.js';
import { ident, metricsTable } from './sql-ident.js';

const SQL_TYPES: Record<ProbeColumnType, string> = {
  text: 'text',
  int8: 'bigint',
  float8: 'double precision',
  bool: 'boolean',
  timestamptz: 'timestamptz',
  jsonb: 'jsonb',
};

/** Columns every metrics table has before the probe's own. */
export const RESERVED_COLUMNS = ['connection_id', 'database_name', 'collected_at'] as const;

// Every PostgreSQL table has these; a user column cannot take their names.
const SYSTEM_COLUMNS = new Set(['tableoid', 'xmin', 'cmin', 'xmax', 'cmax', 'ctid']);

/** A stored column: name and SQL type. */
export interface StoredColumn {
  readonly name: string;
  readonly type: ProbeColumnType | 'int4';
}

/** Every column of a probe's table, in COPY order. */
export function storedColumns(schema: ProbeSchema): StoredColumn[] {
  const columns: StoredColumn[] = [{ name: 'connection_id', type: 'int4' }];
  if (schema.scope === 'database') columns.push({ name: 'database_name', type: 'text' });
  columns.push({ name: 'collected_at', type: 'timestamptz' });
  for (const column of schema.columns) {
    if (
      (RESERVED_COLUMNS as readonly string[]).includes(column.name) ||
      SYSTEM_COLUMNS.has(column.name)
    ) {
      throw new Error(`probe ${schema.name}: column ${column.name} is reserved by the datastore`);
    }
    columns.push(column);
  }
  return columns;
}

function sqlType(type: StoredColumn['type']): string {
  return type === 'int4' ? 'integer' : SQL_TYPES[type];
}

/**
 * Creates or extends the partitioned table of every probe: new probes get a table, new columns
 * (a probe learning a PostgreSQL release) are added; nothing is ever dropped. With the reader
 * role present, readers see rows of their owners' connections only.
 */
export async function syncMetricsTables(
  client: pg.ClientBase,
  schemas: readonly ProbeSchema[],
): Promise<void> {
  const reader = await client.query("SELECT 1 FROM pg_roles WHERE rolname = 'pgquerylens_reader'");
  const hasReader = (reader.rowCount ?? 0) > 0;
  if (hasReader) {
    await client.query(`
      GRANT USAGE ON SCHEMA metrics TO pgquerylens_reader;
      GRANT EXECUTE ON FUNCTION public.pgquerylens_visible_connections() TO pgquerylens_reader`);
  }
  for (const schema of schemas) {
    const table = metricsTable(schema.name);
    const columns = storedColumns(schema);
    const defs = columns.map((c) => {
      const notNull = (RESERVED_COLUMNS as readonly string[]).includes(c.name) ? ' NOT NULL' : '';
      return `${ident(c.name)} ${sqlType(c.type)}${notNull}`;
    });
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${table} (${defs.join(', ')}) PARTITION BY RANGE (collected_at)`,
    );
    const added = columns
      .filter((c) => !(RESERVED_COLUMNS as readonly string[]).includes(c.name))
      .map((c) => `ADD COLUMN IF NOT EXISTS ${ident(c.name)} ${sqlType(c.type)}`);
    if (added.length > 0) await client.query(`ALTER TABLE ${table} ${added.join(', ')}`);
    const scope = schema.scope === 'database' ? 'connection_id, database_name' : 'connection_id';
    await client.query(
      `CREATE INDEX IF NOT EXISTS ${ident(`${schema.name}_conn_time`)}
         ON ${table} (${scope}, collected_at DESC)`,
    );
    if (hasReader) {
      await client.query(`
        ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
        GRANT SELECT ON ${table} TO pgquerylens_reader;
        DROP POLICY IF EXISTS reader_owns_connection ON ${table};
        CREATE POLICY reader_owns_connection ON ${table} FOR SELECT TO pgquerylens_reader
          USING (connection_id IN (SELECT public.pgquerylens_visible_connections()))`);
    }
  }
}
