import { isNameList, type NriEnvValues } from './nri-env-values.js';

/** COLLECTION_LIST's object form: database → schema → table → indexes. */
export type CollectionObject = Record<string, Record<string, Record<string, string[]>>>;

/** What COLLECTION_LIST asks for. */
export interface CollectionList {
  /** `all`, or the databases to visit; empty (the default `{}`) visits none. */
  readonly databases: 'all' | string[];
  /** Set for the object form: exactly these tables and indexes, nothing discovered. */
  readonly collection?: CollectionObject;
}

const EXPECTED =
  'ALL, a JSON array of database names (["postgres"]) or a JSON object ' +
  '({"database":{"schema":{"table":["index"]}}})';

/**
 * COLLECTION_LIST as nri-postgresql reads it: `ALL` in any case, a JSON array of database
 * names, or a JSON object naming exactly the objects to collect. Unset means `{}`: no
 * database, only the instance (and inventory).
 */
export function parseCollectionList(values: NriEnvValues): CollectionList {
  const name = 'COLLECTION_LIST';
  const raw = values.text(name);
  if (raw === undefined) return { databases: [] };
  if (raw.trim().toLowerCase() === 'all') return { databases: 'all' };
  const parsed = values.json(name, EXPECTED);
  if (parsed === undefined) return { databases: [] };
  if (Array.isArray(parsed)) {
    if (isNameList(parsed)) return { databases: parsed };
    values.report(name, `expected ${EXPECTED}; the array must hold database names only`);
    return { databases: [] };
  }
  if (parsed !== null && typeof parsed === 'object') {
    const problem: string[] = [];
    const collection = collectionObject(parsed as Record<string, unknown>, problem);
    if (problem.length > 0) {
      values.report(name, `expected ${EXPECTED}; ${problem.join('; ')}`);
      return { databases: [] };
    }
    // `{}` is nri-postgresql's default: nothing listed, the same as unset.
    if (Object.keys(collection).length === 0) return { databases: [] };
    return { databases: Object.keys(collection), collection };
  }
  values.report(name, `expected ${EXPECTED}`);
  return { databases: [] };
}

/**
 * Checks the nesting level by level; `null` where a level is expected reads as empty, as Go's
 * JSON decoding into nri-postgresql's maps and slices does.
 */
function collectionObject(value: Record<string, unknown>, problems: string[]): CollectionObject {
  const out: CollectionObject = {};
  for (const [database, schemas] of Object.entries(value)) {
    const databaseOut: Record<string, Record<string, string[]>> = {};
    out[database] = databaseOut;
    if (schemas === null) continue;
    if (!isMapping(schemas)) {
      problems.push(`${database}: expected an object of schemas`);
      continue;
    }
    for (const [schema, tables] of Object.entries(schemas)) {
      const schemaOut: Record<string, string[]> = {};
      databaseOut[schema] = schemaOut;
      if (tables === null) continue;
      if (!isMapping(tables)) {
        problems.push(`${database}.${schema}: expected an object of tables`);
        continue;
      }
      for (const [table, indexes] of Object.entries(tables)) {
        if (indexes === null) {
          schemaOut[table] = [];
        } else if (isNameList(indexes)) {
          schemaOut[table] = [...indexes];
        } else {
          problems.push(`${database}.${schema}.${table}: expected an array of index names`);
        }
      }
    }
  }
  return out;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
