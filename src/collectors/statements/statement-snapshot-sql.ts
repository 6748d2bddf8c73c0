import { extensionAtLeast, extensionRelation, type ServerFacts } from '../../core/server-facts.js';
import { countersFor, LEGACY_NAMES, type CounterName } from './statement-counters.js';

const EXTENSION = 'pg_stat_statements';

/** The pg_stat_statements function, qualified with the extension's schema. */
export function statementsFunction(facts: ServerFacts): string {
  return extensionRelation(facts, EXTENSION, 'pg_stat_statements');
}

/** The counters this server's extension version has, in select-list order. */
export function snapshotCounters(facts: ServerFacts): readonly CounterName[] {
  return countersFor(facts.extensions[EXTENSION] ?? '1.7');
}

/**
 * Every entry of the monitored databases ($1: their names), without texts (`false`: the texts
 * file is not read), each counter under its newest name. pg_stat_statements_info (1.9+) rides
 * along on every row: the reset time must come from the same read as the counters it voids.
 */
export function statementSnapshotSql(facts: ServerFacts): string {
  const v = (version: string): boolean => extensionAtLeast(facts, EXTENSION, version);
  const counters = snapshotCounters(facts).map((name) => {
    const legacy = LEGACY_NAMES[name];
    const source = legacy !== undefined && !v(legacy.until) ? legacy.oldName : name;
    // numeric (wal_bytes) and float columns arrive as numbers through the client's parsers.
    return `s.${source}::float8 AS ${name}`;
  });
  const info = v('1.9')
    ? `CROSS JOIN ${extensionRelation(facts, EXTENSION, 'pg_stat_statements_info')} i`
    : '';
  return `SELECT s.userid::int8 AS userid, s.dbid::int8 AS dbid, d.datname,
       s.queryid::text AS queryid, ${v('1.9') ? 's.toplevel' : 'true'} AS toplevel,
       ${v('1.11') ? 's.stats_since' : 'NULL::timestamptz'} AS stats_since,
       s.${v('1.8') ? 'mean_exec_time' : 'mean_time'} AS mean_exec_time,
       s.${v('1.8') ? 'stddev_exec_time' : 'stddev_time'} AS stddev_exec_time,
       r.rolname,
       ${counters.join(',\n       ')},
       ${v('1.9') ? 'i.dealloc' : 'NULL::int8'} AS dealloc,
       ${v('1.9') ? 'i.stats_reset' : 'NULL::timestamptz'} AS stats_reset,
       clock_timestamp() AS taken_at, current_schema() AS current_schema
  FROM ${statementsFunction(facts)}(false) s
  JOIN pg_catalog.pg_database d ON d.oid = s.dbid
  LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.userid
  ${info}
 WHERE s.queryid IS NOT NULL AND d.datname = ANY($1::text[])`;
}
