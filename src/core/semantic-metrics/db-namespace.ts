/**
 * `db.namespace` as the receiver's semconv mode writes it, following the database semantic
 * conventions for PostgreSQL (`{database}|{schema}`, the missing part omitted):
 * - database-level points (commits, sizes, sessions): the database name alone;
 * - points about an object in a schema (tables, indexes, functions, sequences):
 *   `{database}|{schema}`, with the object's own name in `db.collection.name` (the bare table
 *   name) or `postgresql.index.name`, so two schemas' `orders` tables never collide.
 * Adapters that need the parts read `MetricPoint.object`, never this string: a database name
 * may itself contain `|`.
 */
export function dbNamespace(database: string, schema?: string): string {
  return schema === undefined || schema === '' ? database : `${database}|${schema}`;
}

/**
 * Schemas of `pg_stat_user_tables` and `pg_stat_user_indexes` (what the receiver reads): all
 * but the system catalogs, information_schema and TOAST schemas. Our probes read the `all`
 * views, so per-object metrics filter with this to keep the receiver's scope and cardinality.
 */
export function isUserSchema(schema: string): boolean {
  return (
    schema !== 'pg_catalog' && schema !== 'information_schema' && !schema.startsWith('pg_toast')
  );
}
