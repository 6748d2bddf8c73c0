import { OWN_SQL_MARKER } from '../connection/pg-client-config.js';
import type { CollectContext } from '../../core/collector.js';
import { errorMessage } from '../../core/errors.js';
import { redact } from '../../core/redact.js';
import {
  extensionAtLeast,
  extensionRelation,
  isPreloaded,
  type ServerFacts,
} from '../../core/server-facts.js';
import { defineProbe, type ProbeCollector } from './define-probe.js';
import type { ProbeColumnSpec } from './probe-spec.js';
import { QueryTextCache } from './query-text-cache.js';
import { obfuscateSql } from '../query-text/obfuscate-sql.js';

const EXTENSION = 'pg_stat_statements';

/**
 * Rows kept per run, the statements with the most execution time. pg_stat_statements.max is
 * 5000 by default and can be far higher; a few hundred statements carry nearly all of a
 * server's time, and storing every entry each minute would cost more than the server it
 * watches. The price: a statement entering or leaving the top has gaps in its history.
 */
const ROW_LIMIT = 500;

/**
 * Texts kept across all targets, bounded by their total size. Sized for a fleet: every target
 * reads up to ROW_LIMIT statements each run, and a cache smaller than the fleet's working set
 * misses on every run, re-reading each server's whole texts file every minute.
 */
const TEXT_CACHE_ENTRIES = 1_000_000;
const TEXT_CACHE_BYTES = 64 * 1024 * 1024;

/** Characters of a text kept; longer ones are mostly generated IN lists and VALUES. */
export const TEXT_LIMIT = 4096;

/**
 * New texts asked for per run, the top-ranked first. Every text read loads the whole texts
 * file anyway; the cap bounds what one run transfers and holds (about 1 MB), and the rest
 * follow on the next runs.
 */
const MAX_NEW_TEXTS_PER_RUN = 250;

/**
 * Normalised texts have constants replaced by $n, but utility statements (tracked with
 * pg_stat_statements.track_utility) keep their literals, passwords included.
 */
const PASSWORD_PATTERN = /password|passwd/i;
export const REDACTED_TEXT = '<redacted: may contain a password>';

/** The installed extension version is at least `version`. */
function since(version: string): (facts: ServerFacts) => boolean {
  return (facts) => extensionAtLeast(facts, EXTENSION, version);
}

/** The installed extension version is older than `version`. */
function before(version: string): (facts: ServerFacts) => boolean {
  return (facts) => !extensionAtLeast(facts, EXTENSION, version);
}

/**
 * Columns follow the installed extension version, not the server's: pg_upgrade keeps the old
 * version until ALTER EXTENSION ... UPDATE. Names are the newest ones, so one stored schema
 * fits every version.
 */
const COLUMNS: readonly ProbeColumnSpec[] = [
  { name: 'userid', type: 'int8', sql: 's.userid::int8' },
  { name: 'rolname', type: 'text', sql: 'r.rolname' },
  { name: 'dbid', type: 'int8', sql: 's.dbid::int8' },
  { name: 'datname', type: 'text', sql: 'd.datname' },
  // A 64-bit hash: a JS number would round it, so it travels as decimal text.
  { name: 'queryid', type: 'text', sql: 's.queryid::text' },
  // Before 1.9 nested and top-level runs share one entry; true keeps the key complete.
  { name: 'toplevel', type: 'bool', sql: 's.toplevel', when: since('1.9') },
  { name: 'toplevel', type: 'bool', sql: 'true', when: before('1.9') },
  // Filled from the text cache after reading; the statistics read never loads texts.
  { name: 'query', type: 'text', sql: 'NULL::text' },
  { name: 'plans', type: 'int8', sql: 's.plans', when: since('1.8') },
  { name: 'total_plan_time', type: 'float8', sql: 's.total_plan_time', when: since('1.8') },
  { name: 'min_plan_time', type: 'float8', sql: 's.min_plan_time', when: since('1.8') },
  { name: 'max_plan_time', type: 'float8', sql: 's.max_plan_time', when: since('1.8') },
  { name: 'mean_plan_time', type: 'float8', sql: 's.mean_plan_time', when: since('1.8') },
  { name: 'stddev_plan_time', type: 'float8', sql: 's.stddev_plan_time', when: since('1.8') },
  { name: 'calls', type: 'int8', sql: 's.calls' },
  ...renamed('total_exec_time', 'total_time', '1.8'),
  ...renamed('min_exec_time', 'min_time', '1.8'),
  ...renamed('max_exec_time', 'max_time', '1.8'),
  ...renamed('mean_exec_time', 'mean_time', '1.8'),
  ...renamed('stddev_exec_time', 'stddev_time', '1.8'),
  { name: 'rows', type: 'int8', sql: 's.rows' },
  ...counters('shared_blks_hit', 'shared_blks_read', 'shared_blks_dirtied', 'shared_blks_written'),
  ...counters('local_blks_hit', 'local_blks_read', 'local_blks_dirtied', 'local_blks_written'),
  ...counters('temp_blks_read', 'temp_blks_written'),
  ...renamed('shared_blk_read_time', 'blk_read_time', '1.11'),
  ...renamed('shared_blk_write_time', 'blk_write_time', '1.11'),
  {
    name: 'local_blk_read_time',
    type: 'float8',
    sql: 's.local_blk_read_time',
    when: since('1.11'),
  },
  {
    name: 'local_blk_write_time',
    type: 'float8',
    sql: 's.local_blk_write_time',
    when: since('1.11'),
  },
  { name: 'temp_blk_read_time', type: 'float8', sql: 's.temp_blk_read_time', when: since('1.10') },
  {
    name: 'temp_blk_write_time',
    type: 'float8',
    sql: 's.temp_blk_write_time',
    when: since('1.10'),
  },
  { name: 'wal_records', type: 'int8', sql: 's.wal_records', when: since('1.8') },
  { name: 'wal_fpi', type: 'int8', sql: 's.wal_fpi', when: since('1.8') },
  // numeric in the view; bytes fit int8 for any real server.
  { name: 'wal_bytes', type: 'int8', sql: 's.wal_bytes::int8', when: since('1.8') },
  { name: 'wal_buffers_full', type: 'int8', sql: 's.wal_buffers_full', when: since('1.12') },
  { name: 'jit_functions', type: 'int8', sql: 's.jit_functions', when: since('1.10') },
  {
    name: 'jit_generation_time',
    type: 'float8',
    sql: 's.jit_generation_time',
    when: since('1.10'),
  },
  { name: 'jit_inlining_count', type: 'int8', sql: 's.jit_inlining_count', when: since('1.10') },
  { name: 'jit_inlining_time', type: 'float8', sql: 's.jit_inlining_time', when: since('1.10') },
  {
    name: 'jit_optimization_count',
    type: 'int8',
    sql: 's.jit_optimization_count',
    when: since('1.10'),
  },
  {
    name: 'jit_optimization_time',
    type: 'float8',
    sql: 's.jit_optimization_time',
    when: since('1.10'),
  },
  { name: 'jit_emission_count', type: 'int8', sql: 's.jit_emission_count', when: since('1.10') },
  { name: 'jit_emission_time', type: 'float8', sql: 's.jit_emission_time', when: since('1.10') },
  { name: 'jit_deform_count', type: 'int8', sql: 's.jit_deform_count', when: since('1.11') },
  { name: 'jit_deform_time', type: 'float8', sql: 's.jit_deform_time', when: since('1.11') },
  {
    name: 'parallel_workers_to_launch',
    type: 'int8',
    sql: 's.parallel_workers_to_launch',
    when: since('1.12'),
  },
  {
    name: 'parallel_workers_launched',
    type: 'int8',
    sql: 's.parallel_workers_launched',
    when: since('1.12'),
  },
  // When this entry was created and its min/max last reset: a later stats_since than the
  // previous sample's means the entry was evicted and re-created, so its counters restarted.
  { name: 'stats_since', type: 'timestamptz', sql: 's.stats_since', when: since('1.11') },
  {
    name: 'minmax_stats_since',
    type: 'timestamptz',
    sql: 's.minmax_stats_since',
    when: since('1.11'),
  },
  // pg_stat_statements_info, one row per server, repeated on each row: delta computation needs
  // the reset time next to the counters it invalidates, and two columns cost next to nothing
  // beside the forty others. A rising dealloc means entries are being evicted (raise
  // pg_stat_statements.max).
  { name: 'dealloc', type: 'int8', sql: 'i.dealloc', when: since('1.9') },
  { name: 'stats_reset', type: 'timestamptz', sql: 'i.stats_reset', when: since('1.9') },
];

/** A timing column under its current name, read from its older name before `version`. */
function renamed(name: string, oldName: string, version: string): ProbeColumnSpec[] {
  return [
    { name, type: 'float8', sql: `s.${name}`, when: since(version) },
    { name, type: 'float8', sql: `s.${oldName}`, when: before(version) },
  ];
}

function counters(...names: string[]): ProbeColumnSpec[] {
  return names.map((name) => ({ name, type: 'int8', sql: `s.${name}` }));
}

/**
 * The statement text as stored: withheld when it may hold a password, otherwise obfuscated
 * (utility statements and comments keep their constants in pg_stat_statements), and capped.
 */
export function storedText(text: string): string {
  return PASSWORD_PATTERN.test(text) ? REDACTED_TEXT : obfuscateSql(text).slice(0, TEXT_LIMIT);
}

/**
 * The pg_stat_statements probe with its own text cache; tests build one each so they can see
 * which texts a run fetched.
 */
export function createPgStatStatements(
  texts = new QueryTextCache(TEXT_CACHE_ENTRIES, TEXT_CACHE_BYTES),
): ProbeCollector {
  return defineProbe({
    name: 'pg_stat_statements',
    // The view is cluster-wide: read once from the target's database, filtered by database.
    scope: 'server',
    description:
      'Top statements by execution time: calls, plan and execution time, rows, block I/O, WAL, JIT',
    intervalMs: 60_000,
    retentionDays: 7,
    enabledByDefault: true,
    key: ['userid', 'dbid', 'queryid', 'toplevel'],
    // Columns used here exist since 1.3; PostgreSQL 12 ships 1.7.
    requires: { extension: EXTENSION, extensionVersion: '1.3' },
    // Without the library the view only errors; undefined (cannot tell) still tries.
    unavailable: (facts) =>
      isPreloaded(facts, EXTENSION) === false
        ? `${EXTENSION} is not in shared_preload_libraries (add it and restart PostgreSQL)`
        : undefined,
    columns: COLUMNS,
    read: async (ctx, select) => {
      // The extension need not be on the search path (`extensions`, say): its schema is a fact.
      const facts = ctx.session.facts;
      const statements = extensionRelation(facts, EXTENSION, 'pg_stat_statements');
      const info = extensionAtLeast(facts, EXTENSION, '1.9')
        ? `CROSS JOIN ${extensionRelation(facts, EXTENSION, 'pg_stat_statements_info')} i`
        : '';
      // false: no texts, so the texts file is not read. NULL queryid: another role's statement
      // without pg_read_all_stats, which identifies nothing.
      const rows = await ctx.session.query(
        `SELECT ${select}
           FROM ${statements}(false) s
           JOIN pg_database d ON d.oid = s.dbid
           LEFT JOIN pg_roles r ON r.oid = s.userid
           ${info}
          WHERE s.queryid IS NOT NULL AND d.datname = ANY($1::text[])
          ORDER BY total_exec_time DESC
          LIMIT ${ROW_LIMIT}`,
        [ctx.databases],
      );
      await fetchNewTexts(
        ctx,
        statements,
        rows.map((row) => String(row.queryid)),
        texts,
      );
      return rows.map((row) => ({
        ...row,
        query: texts.get(ctx.target.name, String(row.queryid)) ?? null,
      }));
    },
  });
}

/**
 * Texts shared by every reader of pg_stat_statements in the process (this probe and the
 * slow-queries collector), so a statement's text crosses the wire once.
 */
export const statementTexts = new QueryTextCache(TEXT_CACHE_ENTRIES, TEXT_CACHE_BYTES);

/** The probe as registered, with a cache shared by every target of the process. */
export const pgStatStatements = createPgStatStatements(statementTexts);

/**
 * Reads texts of queryids this target has not shown before (most important first), in one
 * statement. A failure costs only the texts (retried next run), never the statistics.
 * `statements` is the schema-qualified pg_stat_statements function.
 */
export async function fetchNewTexts(
  ctx: CollectContext,
  statements: string,
  queryIds: readonly string[],
  texts: QueryTextCache,
): Promise<void> {
  const target = ctx.target.name;
  const wanted = new Set<string>();
  for (const id of queryIds) {
    if (wanted.size >= MAX_NEW_TEXTS_PER_RUN) break;
    if (!texts.has(target, id)) wanted.add(id);
  }
  if (wanted.size === 0) return;
  try {
    // Redacted and cut on the server, so secrets and huge texts never cross the wire. One
    // queryid may have several entries (roles, databases, toplevel); any text will do.
    // Our own statements are told by the marker on the whole text (the end may be cut off
    // below) and kept marked at the start, whatever end the server kept it at.
    const found = await ctx.session.query<{ queryid: string; query: string | null; own: boolean }>(
      `SELECT DISTINCT ON (queryid) queryid::text AS queryid,
              CASE WHEN query ~* '${PASSWORD_PATTERN.source}' THEN '${REDACTED_TEXT}'
                   ELSE left(query, ${TEXT_LIMIT}) END AS query,
              coalesce(starts_with(query, $2) OR right(query, $3) = $2, false) AS own
         FROM ${statements}(true)
        WHERE queryid = ANY($1::int8[])`,
      [[...wanted], OWN_SQL_MARKER, OWN_SQL_MARKER.length],
    );
    for (const { queryid, query, own } of found) {
      // NULL: the texts file could not be read; not cached, so asked again next run.
      if (query === null) continue;
      // Obfuscation drops comments, the marker among them: it goes back on afterwards.
      const shown = storedText(query);
      texts.set(target, queryid, own ? `${OWN_SQL_MARKER} ${shown}` : shown);
    }
  } catch (err) {
    ctx.logger.warn('pg_stat_statements texts not read; statistics kept without them', {
      target,
      err: redact(errorMessage(err)),
    });
  }
}
