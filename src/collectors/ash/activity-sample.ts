import type { AshSample } from '../../core/model/ash-sample.js';
import type { ActivityText } from '../query-text/activity-text.js';
import { opt } from '../optional-field.js';

/** One pg_stat_activity row as the sample query reads it. */
export interface ActivityRow {
  readonly sampled_at: string;
  readonly pid: number;
  readonly backend_start: string | null;
  readonly datname: string | null;
  readonly usename: string | null;
  readonly application_name: string | null;
  readonly client_addr: string | null;
  readonly backend_type: string | null;
  readonly state: string | null;
  readonly wait_event_type: string | null;
  readonly wait_event: string | null;
  readonly query_id: string | null;
  readonly leader_pid: number | null;
  readonly xact_start: string | null;
  readonly query_start: string | null;
  readonly state_change: string | null;
  readonly query: string | null;
}

/**
 * A session as ASH records it. An active session with no wait event is on CPU (or in code
 * PostgreSQL does not instrument), labelled `CPU`; query id 0 means "not computed".
 * `text` is the row's query already turned into what may leave the process.
 */
export function activitySample(
  row: ActivityRow,
  intervalMs: number,
  text: ActivityText,
): AshSample {
  const state = row.state ?? 'unknown';
  const idleTx = state.startsWith('idle in transaction');
  const label = idleTx ? 'IdleTx' : 'CPU';
  const queryId = row.query_id === null || row.query_id === '0' ? undefined : row.query_id;
  return {
    sampledAt: row.sampled_at,
    sampleIntervalMs: intervalMs,
    pid: row.pid,
    state,
    waitEventType: row.wait_event_type ?? label,
    waitEvent: row.wait_event ?? label,
    ...opt('backendStart', row.backend_start),
    ...opt('databaseName', row.datname),
    ...opt('userName', row.usename),
    ...opt('applicationName', row.application_name),
    ...opt('clientAddr', row.client_addr),
    ...opt('backendType', row.backend_type),
    ...opt('queryId', queryId),
    ...opt('leaderPid', row.leader_pid),
    ...opt('xactStart', row.xact_start),
    ...opt('queryStart', row.query_start),
    ...opt('stateChange', row.state_change),
    ...opt('query', text.text),
    ...(text.truncated ? { queryTruncated: true } : {}),
  };
}
