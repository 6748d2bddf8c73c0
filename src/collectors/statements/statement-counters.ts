import { compareVersions } from '../../core/server-facts.js';

/**
 * The cumulative pg_stat_statements columns, under their newest names so one delta schema fits
 * every extension version. min/max/mean/stddev are left out: they are not sums, so they have no
 * per-interval difference.
 */
export const STATEMENT_COUNTERS = [
  'calls',
  'total_exec_time',
  'plans',
  'total_plan_time',
  'rows',
  'shared_blks_hit',
  'shared_blks_read',
  'shared_blks_dirtied',
  'shared_blks_written',
  'local_blks_hit',
  'local_blks_read',
  'local_blks_dirtied',
  'local_blks_written',
  'temp_blks_read',
  'temp_blks_written',
  'shared_blk_read_time',
  'shared_blk_write_time',
  'local_blk_read_time',
  'local_blk_write_time',
  'temp_blk_read_time',
  'temp_blk_write_time',
  'wal_records',
  'wal_fpi',
  'wal_bytes',
  'wal_buffers_full',
  'jit_functions',
  'jit_generation_time',
  'jit_inlining_count',
  'jit_inlining_time',
  'jit_optimization_count',
  'jit_optimization_time',
  'jit_emission_count',
  'jit_emission_time',
  'jit_deform_count',
  'jit_deform_time',
  'parallel_workers_to_launch',
  'parallel_workers_launched',
] as const;

/** One cumulative pg_stat_statements counter, by its newest column name. */
export type CounterName = (typeof STATEMENT_COUNTERS)[number];

/**
 * The oldest extension version considered: 1.7, shipped with PostgreSQL 12, the oldest server
 * supported. Older versions survive pg_upgrade until ALTER EXTENSION UPDATE, and have every
 * counter listed at this version (they date from 1.1 at the latest), so they are read as 1.7.
 */
export const BASE_EXTENSION_VERSION = '1.7';

/**
 * The first extension version from which each counter can be read, under either its current
 * or its legacy name (see LEGACY_NAMES): a renamed counter dates from before its rename.
 */
export const COUNTER_SINCE: Readonly<Record<CounterName, string>> = {
  calls: BASE_EXTENSION_VERSION,
  total_exec_time: BASE_EXTENSION_VERSION,
  plans: '1.8',
  total_plan_time: '1.8',
  rows: BASE_EXTENSION_VERSION,
  shared_blks_hit: BASE_EXTENSION_VERSION,
  shared_blks_read: BASE_EXTENSION_VERSION,
  shared_blks_dirtied: BASE_EXTENSION_VERSION,
  shared_blks_written: BASE_EXTENSION_VERSION,
  local_blks_hit: BASE_EXTENSION_VERSION,
  local_blks_read: BASE_EXTENSION_VERSION,
  local_blks_dirtied: BASE_EXTENSION_VERSION,
  local_blks_written: BASE_EXTENSION_VERSION,
  temp_blks_read: BASE_EXTENSION_VERSION,
  temp_blks_written: BASE_EXTENSION_VERSION,
  shared_blk_read_time: BASE_EXTENSION_VERSION,
  shared_blk_write_time: BASE_EXTENSION_VERSION,
  local_blk_read_time: '1.11',
  local_blk_write_time: '1.11',
  temp_blk_read_time: '1.10',
  temp_blk_write_time: '1.10',
  wal_records: '1.8',
  wal_fpi: '1.8',
  wal_bytes: '1.8',
  wal_buffers_full: '1.12',
  jit_functions: '1.10',
  jit_generation_time: '1.10',
  jit_inlining_count: '1.10',
  jit_inlining_time: '1.10',
  jit_optimization_count: '1.10',
  jit_optimization_time: '1.10',
  jit_emission_count: '1.10',
  jit_emission_time: '1.10',
  jit_deform_count: '1.11',
  jit_deform_time: '1.11',
  parallel_workers_to_launch: '1.12',
  parallel_workers_launched: '1.12',
};

/** A counter's name before a rename; `until` is the (exclusive) version that renamed it. */
export interface LegacyName {
  readonly oldName: string;
  readonly until: '1.8' | '1.11';
}

/**
 * Counters renamed by the extension. The caller selects `oldName AS newName` on versions before
 * `until`; the meaning did not change. 1.8 split planning from execution, so total_time became
 * total_exec_time (planning was not timed before, so it is the same execution time); 1.11 added
 * local block timing and renamed the existing block timing to match.
 */
export const LEGACY_NAMES: Readonly<Partial<Record<CounterName, LegacyName>>> = {
  total_exec_time: { oldName: 'total_time', until: '1.8' },
  shared_blk_read_time: { oldName: 'blk_read_time', until: '1.11' },
  shared_blk_write_time: { oldName: 'blk_write_time', until: '1.11' },
};

/**
 * The counters an installed extension version has, in STATEMENT_COUNTERS order; versions older
 * than BASE_EXTENSION_VERSION (or unparsable) get the base set.
 */
export function countersFor(extensionVersion: string): readonly CounterName[] {
  return STATEMENT_COUNTERS.filter(
    (name) =>
      COUNTER_SINCE[name] === BASE_EXTENSION_VERSION ||
      compareVersions(extensionVersion, COUNTER_SINCE[name]) >= 0,
  );
}

/**
 * Writes counters into `into` from `at`, one float each in STATEMENT_COUNTERS order, NaN for a
 * missing one. Spelled out name by name: V8 reads a named property several times faster than
 * one chosen at run time, and a tracker reads 37 per statement, up to hundreds of thousands per
 * snapshot.
 */
export function packCounters(
  counters: Readonly<Partial<Record<CounterName, number>>>,
  into: Float64Array,
  at: number,
): void {
  into[at + 0] = counters.calls ?? Number.NaN;
  into[at + 1] = counters.total_exec_time ?? Number.NaN;
  into[at + 2] = counters.plans ?? Number.NaN;
  into[at + 3] = counters.total_plan_time ?? Number.NaN;
  into[at + 4] = counters.rows ?? Number.NaN;
  into[at + 5] = counters.shared_blks_hit ?? Number.NaN;
  into[at + 6] = counters.shared_blks_read ?? Number.NaN;
  into[at + 7] = counters.shared_blks_dirtied ?? Number.NaN;
  into[at + 8] = counters.shared_blks_written ?? Number.NaN;
  into[at + 9] = counters.local_blks_hit ?? Number.NaN;
  into[at + 10] = counters.local_blks_read ?? Number.NaN;
  into[at + 11] = counters.local_blks_dirtied ?? Number.NaN;
  into[at + 12] = counters.local_blks_written ?? Number.NaN;
  into[at + 13] = counters.temp_blks_read ?? Number.NaN;
  into[at + 14] = counters.temp_blks_written ?? Number.NaN;
  into[at + 15] = counters.shared_blk_read_time ?? Number.NaN;
  into[at + 16] = counters.shared_blk_write_time ?? Number.NaN;
  into[at + 17] = counters.local_blk_read_time ?? Number.NaN;
  into[at + 18] = counters.local_blk_write_time ?? Number.NaN;
  into[at + 19] = counters.temp_blk_read_time ?? Number.NaN;
  into[at + 20] = counters.temp_blk_write_time ?? Number.NaN;
  into[at + 21] = counters.wal_records ?? Number.NaN;
  into[at + 22] = counters.wal_fpi ?? Number.NaN;
  into[at + 23] = counters.wal_bytes ?? Number.NaN;
  into[at + 24] = counters.wal_buffers_full ?? Number.NaN;
  into[at + 25] = counters.jit_functions ?? Number.NaN;
  into[at + 26] = counters.jit_generation_time ?? Number.NaN;
  into[at + 27] = counters.jit_inlining_count ?? Number.NaN;
  into[at + 28] = counters.jit_inlining_time ?? Number.NaN;
  into[at + 29] = counters.jit_optimization_count ?? Number.NaN;
  into[at + 30] = counters.jit_optimization_time ?? Number.NaN;
  into[at + 31] = counters.jit_emission_count ?? Number.NaN;
  into[at + 32] = counters.jit_emission_time ?? Number.NaN;
  into[at + 33] = counters.jit_deform_count ?? Number.NaN;
  into[at + 34] = counters.jit_deform_time ?? Number.NaN;
  into[at + 35] = counters.parallel_workers_to_launch ?? Number.NaN;
  into[at + 36] = counters.parallel_workers_launched ?? Number.NaN;
}

/**
 * Counters read back from packCounters' layout, NaN (missing) ones left out. A class with named
 * stores because V8 turns a plain object given more than a dozen properties by computed keys
 * into a hash table, several times slower to build and to read.
 */
export class CounterValues implements Record<CounterName, number | undefined> {
  declare calls: number | undefined;
  declare total_exec_time: number | undefined;
  declare plans: number | undefined;
  declare total_plan_time: number | undefined;
  declare rows: number | undefined;
  declare shared_blks_hit: number | undefined;
  declare shared_blks_read: number | undefined;
  declare shared_blks_dirtied: number | undefined;
  declare shared_blks_written: number | undefined;
  declare local_blks_hit: number | undefined;
  declare local_blks_read: number | undefined;
  declare local_blks_dirtied: number | undefined;
  declare local_blks_written: number | undefined;
  declare temp_blks_read: number | undefined;
  declare temp_blks_written: number | undefined;
  declare shared_blk_read_time: number | undefined;
  declare shared_blk_write_time: number | undefined;
  declare local_blk_read_time: number | undefined;
  declare local_blk_write_time: number | undefined;
  declare temp_blk_read_time: number | undefined;
  declare temp_blk_write_time: number | undefined;
  declare wal_records: number | undefined;
  declare wal_fpi: number | undefined;
  declare wal_bytes: number | undefined;
  declare wal_buffers_full: number | undefined;
  declare jit_functions: number | undefined;
  declare jit_generation_time: number | undefined;
  declare jit_inlining_count: number | undefined;
  declare jit_inlining_time: number | undefined;
  declare jit_optimization_count: number | undefined;
  declare jit_optimization_time: number | undefined;
  declare jit_emission_count: number | undefined;
  declare jit_emission_time: number | undefined;
  declare jit_deform_count: number | undefined;
  declare jit_deform_time: number | undefined;
  declare parallel_workers_to_launch: number | undefined;
  declare parallel_workers_launched: number | undefined;

  constructor(values: Float64Array, at: number) {
    let x: number;
    x = values[at + 0] ?? Number.NaN;
    if (!Number.isNaN(x)) this.calls = x;
    x = values[at + 1] ?? Number.NaN;
    if (!Number.isNaN(x)) this.total_exec_time = x;
    x = values[at + 2] ?? Number.NaN;
    if (!Number.isNaN(x)) this.plans = x;
    x = values[at + 3] ?? Number.NaN;
    if (!Number.isNaN(x)) this.total_plan_time = x;
    x = values[at + 4] ?? Number.NaN;
    if (!Number.isNaN(x)) this.rows = x;
    x = values[at + 5] ?? Number.NaN;
    if (!Number.isNaN(x)) this.shared_blks_hit = x;
    x = values[at + 6] ?? Number.NaN;
    if (!Number.isNaN(x)) this.shared_blks_read = x;
    x = values[at + 7] ?? Number.NaN;
    if (!Number.isNaN(x)) this.shared_blks_dirtied = x;
    x = values[at + 8] ?? Number.NaN;
    if (!Number.isNaN(x)) this.shared_blks_written = x;
    x = values[at + 9] ?? Number.NaN;
    if (!Number.isNaN(x)) this.local_blks_hit = x;
    x = values[at + 10] ?? Number.NaN;
    if (!Number.isNaN(x)) this.local_blks_read = x;
    x = values[at + 11] ?? Number.NaN;
    if (!Number.isNaN(x)) this.local_blks_dirtied = x;
    x = values[at + 12] ?? Number.NaN;
    if (!Number.isNaN(x)) this.local_blks_written = x;
    x = values[at + 13] ?? Number.NaN;
    if (!Number.isNaN(x)) this.temp_blks_read = x;
    x = values[at + 14] ?? Number.NaN;
    if (!Number.isNaN(x)) this.temp_blks_written = x;
    x = values[at + 15] ?? Number.NaN;
    if (!Number.isNaN(x)) this.shared_blk_read_time = x;
    x = values[at + 16] ?? Number.NaN;
    if (!Number.isNaN(x)) this.shared_blk_write_time = x;
    x = values[at + 17] ?? Number.NaN;
    if (!Number.isNaN(x)) this.local_blk_read_time = x;
    x = values[at + 18] ?? Number.NaN;
    if (!Number.isNaN(x)) this.local_blk_write_time = x;
    x = values[at + 19] ?? Number.NaN;
    if (!Number.isNaN(x)) this.temp_blk_read_time = x;
    x = values[at + 20] ?? Number.NaN;
    if (!Number.isNaN(x)) this.temp_blk_write_time = x;
    x = values[at + 21] ?? Number.NaN;
    if (!Number.isNaN(x)) this.wal_records = x;
    x = values[at + 22] ?? Number.NaN;
    if (!Number.isNaN(x)) this.wal_fpi = x;
    x = values[at + 23] ?? Number.NaN;
    if (!Number.isNaN(x)) this.wal_bytes = x;
    x = values[at + 24] ?? Number.NaN;
    if (!Number.isNaN(x)) this.wal_buffers_full = x;
    x = values[at + 25] ?? Number.NaN;
    if (!Number.isNaN(x)) this.jit_functions = x;
    x = values[at + 26] ?? Number.NaN;
    if (!Number.isNaN(x)) this.jit_generation_time = x;
    x = values[at + 27] ?? Number.NaN;
    if (!Number.isNaN(x)) this.jit_inlining_count = x;
    x = values[at + 28] ?? Number.NaN;
    if (!Number.isNaN(x)) this.jit_inlining_time = x;
    x = values[at + 29] ?? Number.NaN;
    if (!Number.isNaN(x)) this.jit_optimization_count = x;
    x = values[at + 30] ?? Number.NaN;
    if (!Number.isNaN(x)) this.jit_optimization_time = x;
    x = values[at + 31] ?? Number.NaN;
    if (!Number.isNaN(x)) this.jit_emission_count = x;
    x = values[at + 32] ?? Number.NaN;
    if (!Number.isNaN(x)) this.jit_emission_time = x;
    x = values[at + 33] ?? Number.NaN;
    if (!Number.isNaN(x)) this.jit_deform_count = x;
    x = values[at + 34] ?? Number.NaN;
    if (!Number.isNaN(x)) this.jit_deform_time = x;
    x = values[at + 35] ?? Number.NaN;
    if (!Number.isNaN(x)) this.parallel_workers_to_launch = x;
    x = values[at + 36] ?? Number.NaN;
    if (!Number.isNaN(x)) this.parallel_workers_launched = x;
  }
}
