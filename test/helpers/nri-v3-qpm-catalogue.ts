/**
 * Our transcription of nri-postgresql's query-performance event types (reference notes §3.2)
 * and of the strict JSON schemas its tests validate them with (§5: additionalProperties
 * false, integers for counts and pids, `format: date-time` timestamps). Test data only: the
 * adapter never imports it, so a slip in one is caught by the other.
 */

/** JSON type a schema demands: `integer` is a number with no fraction. */
export type QpmValueType = 'string' | 'integer' | 'number';

/**
 * `date-time`: RFC 3339 as Go's RFC3339Nano prints it (UTC `Z`, fraction without trailing
 * zeros). `nri-timestamp`: `to_char(… 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`, also a valid date-time.
 */
export type QpmFormat = 'date-time' | 'nri-timestamp';

/** One attribute of an event type. */
export interface QpmAttribute {
  readonly name: string;
  readonly type: QpmValueType;
  /** In the schema's `required` list. */
  readonly required: boolean;
  readonly format?: QpmFormat;
  /** The schema's `minimum`. */
  readonly minimum?: number;
  /** The only values nri can produce. */
  readonly values?: readonly (string | number)[];
  /**
   * Why our output may leave out a field nri's schema requires (nil-pointer semantics: the
   * source has no value). Absent when the field must always be there.
   */
  readonly mayBeAbsent?: string;
}

/** One event type: its attributes in the order nri's tables list them. */
export interface QpmEventType {
  readonly eventType: string;
  readonly attributes: readonly QpmAttribute[];
  /** Names the schema allows but nri never emits (we must not emit them either). */
  readonly schemaOnly: readonly string[];
}

/** Longest string nri sends (`LEFT(…, 4095)`), in characters. */
export const QPM_TEXT_LIMIT = 4095;

/** nri caps executions per slow query at this, whatever the count threshold. */
export const QPM_INDIVIDUAL_PER_SLOW_QUERY = 10;

const text = (name: string, required: boolean, mayBeAbsent?: string): QpmAttribute => ({
  name,
  type: 'string',
  required,
  ...(mayBeAbsent === undefined ? {} : { mayBeAbsent }),
});

/** The five event types, in the order nri publishes them (non-RDS path). */
export const NRI_V3_QPM_CATALOGUE: readonly QpmEventType[] = [
  {
    eventType: 'PostgresWaitEvents',
    attributes: [
      text('wait_event_name', true),
      {
        name: 'wait_category',
        type: 'string',
        required: true,
        values: ['Locks', 'Disk IO', 'CPU', 'Other'],
      },
      { name: 'total_wait_time_ms', type: 'number', required: false, minimum: 0 },
      { name: 'collection_timestamp', type: 'string', required: true, format: 'nri-timestamp' },
      text('query_id', true, 'waits of sessions without a query id (PG < 14, utility statements)'),
      text('query_text', true, 'waits without a query id, or whose text is not known'),
      text('database_name', true, 'pg_wait_sampling rows of a backend with no database'),
    ],
    schemaOnly: [],
  },
  {
    eventType: 'PostgresBlockingSessions',
    attributes: [
      { name: 'blocked_pid', type: 'integer', required: true, minimum: 0 },
      text('blocked_query', true),
      text('blocked_query_id', false),
      {
        name: 'blocked_query_start',
        type: 'string',
        required: true,
        format: 'date-time',
        mayBeAbsent: 'pg_stat_activity.query_start is NULL',
      },
      text('database_name', true),
      { name: 'blocking_pid', type: 'integer', required: true, minimum: 0 },
      text('blocking_query', true),
      text('blocking_query_id', false),
      {
        name: 'blocking_query_start',
        type: 'string',
        required: true,
        format: 'date-time',
        mayBeAbsent: 'a prepared transaction (pid 0) or a blocker that has run nothing',
      },
    ],
    schemaOnly: [],
  },
  {
    eventType: 'PostgresSlowQueries',
    attributes: [
      text('query_id', true),
      text('query_text', true),
      text('database_name', true),
      text('schema_name', false),
      { name: 'execution_count', type: 'integer', required: true, minimum: 0 },
      { name: 'avg_elapsed_time_ms', type: 'number', required: true, minimum: 0 },
      { name: 'avg_disk_reads', type: 'integer', required: false, minimum: 0 },
      { name: 'avg_disk_writes', type: 'integer', required: false, minimum: 0 },
      {
        name: 'statement_type',
        type: 'string',
        required: false,
        values: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'OTHER'],
      },
      { name: 'collection_timestamp', type: 'string', required: true, format: 'nri-timestamp' },
    ],
    schemaOnly: [],
  },
  {
    eventType: 'PostgresIndividualQueries',
    attributes: [
      text('query_text', true),
      text('query_id', true),
      text('database_name', true),
      // pg_stat_monitor's cpu_user_time + cpu_sys_time in nri; ours needs pg_stat_kcache.
      { name: 'cpu_time_ms', type: 'number', required: false, minimum: 0 },
      {
        name: 'exec_time_ms',
        type: 'number',
        required: true,
        minimum: 0,
        mayBeAbsent: 'an execution seen with no timing (nri needs pg_stat_monitor for it)',
      },
      { name: 'avg_exec_time_ms', type: 'number', required: false, minimum: 0 },
      text('plan_id', true, 'no plan captured for the statement yet'),
    ],
    schemaOnly: [],
  },
  {
    eventType: 'PostgresExecutionPlanMetrics',
    attributes: [
      text('node_type', true),
      { name: 'parallel_aware', type: 'integer', required: true, values: [0, 1] },
      { name: 'async_capable', type: 'integer', required: true, values: [0, 1] },
      text('scan_direction', true),
      text('index_name', true),
      text('relation_name', true),
      text('alias', true),
      { name: 'startup_cost', type: 'number', required: true, minimum: 0 },
      { name: 'total_cost', type: 'number', required: true, minimum: 0 },
      { name: 'plan_rows', type: 'integer', required: true, minimum: 0 },
      { name: 'plan_width', type: 'integer', required: true, minimum: 0 },
      // Only EXPLAIN ANALYZE has it; nri never analyzes either, so always 0.
      { name: 'rows_removed_by_filter', type: 'integer', required: true, values: [0] },
      text('database_name', true),
      text('query_id', true),
      text('plan_id', true),
      { name: 'level_id', type: 'integer', required: true, minimum: 0 },
    ],
    schemaOnly: [
      'actual_loops',
      'actual_rows',
      'actual_startup_time',
      'actual_total_time',
      'local_dirtied_blocks',
      'local_hit_blocks',
      'local_read_blocks',
      'local_written_blocks',
      'shared_dirtied_blocks',
      'shared_hit_blocks',
      'shared_read_blocks',
      'shared_written_blocks',
      'temp_read_blocks',
      'temp_written_blocks',
      'query_text',
    ],
  },
];

/** The catalogue entry of an event type. */
export function qpmEventType(eventType: string): QpmEventType | undefined {
  return NRI_V3_QPM_CATALOGUE.find((e) => e.eventType === eventType);
}
