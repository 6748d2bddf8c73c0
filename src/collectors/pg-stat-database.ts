import type { Collector } from '../core/collector.js';
import { probeSample } from './probe-sample.js';
import { columnsFor, type VersionedColumn } from './versioned-columns.js';

const COLUMNS: readonly VersionedColumn[] = [
  { name: 'datid' },
  { name: 'datname' },
  { name: 'numbackends' },
  { name: 'xact_commit' },
  { name: 'xact_rollback' },
  { name: 'blks_read' },
  { name: 'blks_hit' },
  { name: 'tup_returned' },
  { name: 'tup_fetched' },
  { name: 'tup_inserted' },
  { name: 'tup_updated' },
  { name: 'tup_deleted' },
  { name: 'conflicts' },
  { name: 'temp_files' },
  { name: 'temp_bytes' },
  { name: 'deadlocks' },
  { name: 'checksum_failures' },
  { name: 'checksum_last_failure' },
  { name: 'blk_read_time' },
  { name: 'blk_write_time' },
  { name: 'session_time', since: 14 },
  { name: 'active_time', since: 14 },
  { name: 'idle_in_transaction_time', since: 14 },
  { name: 'sessions', since: 14 },
  { name: 'sessions_abandoned', since: 14 },
  { name: 'sessions_fatal', since: 14 },
  { name: 'sessions_killed', since: 14 },
  { name: 'parallel_workers_to_launch', since: 18 },
  { name: 'parallel_workers_launched', since: 18 },
  { name: 'stats_reset' },
];

/** Per-database activity counters plus the database's size, read in that database. */
export const pgStatDatabaseCollector: Collector = {
  name: 'pg_stat_database',
  scope: 'database',
  description: 'Transactions, block I/O, tuples, temp files, deadlocks and sessions per database',
  async collect(ctx) {
    const columns = columnsFor(COLUMNS, ctx.session.facts.major)
      .map((c) => `s.${c}`)
      .join(', ');
    const rows = await ctx.session.query(
      `SELECT ${columns}, pg_database_size(s.datid) AS size_bytes
         FROM pg_stat_database s
        WHERE s.datname = current_database()`,
    );
    return { probes: [probeSample(this, ctx, rows)] };
  },
};
