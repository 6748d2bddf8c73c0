/** COLLECTION_LIST's object form: `{db: {schema: {table: [index, ...]}}}`. */
export type V3CollectionList = Readonly<
  Record<string, Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>>
>;

/** Which tables and indexes get sets. */
export interface V3RelationFilter {
  /** Only the listed objects when set; every user table and index otherwise. */
  readonly collection?: V3CollectionList;
  /** Bare table names left out, only when `collection` is undefined (as nri applies it). */
  readonly ignoreTables: readonly string[];
}

/**
 * User schemas, as pg_stat_user_tables defines them: not the catalogs, not TOAST. nri's table
 * query reads the `_user_` views, so system tables never get table sets.
 */
export function isUserSchema(schema: string): boolean {
  return schema !== 'pg_catalog' && schema !== 'information_schema' && !/^pg_toast/.test(schema);
}

/** Whether a table of a user schema gets table (and bloat) sets. */
export function tableSelected(
  filter: V3RelationFilter,
  database: string,
  schema: string,
  table: string,
): boolean {
  if (!isUserSchema(schema)) return false;
  if (filter.collection === undefined) return !filter.ignoreTables.includes(table);
  return listedIndexes(filter.collection, database, schema, table) !== undefined;
}

/**
 * Whether an index gets a set. In the object form only listed indexes do; otherwise every
 * index of a selected table (ignoring a table drops its indexes, as nri's discovery does).
 */
export function indexSelected(
  filter: V3RelationFilter,
  database: string,
  schema: string,
  table: string,
  index: string,
): boolean {
  if (!isUserSchema(schema)) return false;
  if (filter.collection === undefined) return !filter.ignoreTables.includes(table);
  return listedIndexes(filter.collection, database, schema, table)?.includes(index) ?? false;
}

/** The listed indexes of a listed table, or undefined when the table is not listed. */
function listedIndexes(
  collection: V3CollectionList,
  database: string,
  schema: string,
  table: string,
): readonly string[] | undefined {
  // Own properties only: a table named "constructor" must not match Object.prototype.
  const schemas = Object.hasOwn(collection, database) ? collection[database] : undefined;
  const tables =
    schemas !== undefined && Object.hasOwn(schemas, schema) ? schemas[schema] : undefined;
  return tables !== undefined && Object.hasOwn(tables, table) ? tables[table] : undefined;
}
