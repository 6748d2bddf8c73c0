import { defineProbe } from '../probes/define-probe.js';
import type { ProbeColumnSpec } from '../probes/probe-spec.js';
import { readShow } from './show-rows.js';

const gauge = (name: string): ProbeColumnSpec => ({ name, type: 'int8' });

/** Every SHOW POOLS column known; `maxwait` is whole seconds and `maxwait_us` the remainder. */
const COLUMNS: readonly ProbeColumnSpec[] = [
  { name: 'database', type: 'text' },
  { name: 'user', type: 'text' },
  ...[
    'cl_active',
    'cl_waiting',
    // 1.18 split the cancel requests; before, one cl_cancel_req.
    'cl_active_cancel_req',
    'cl_waiting_cancel_req',
    'cl_cancel_req',
    'sv_active',
    'sv_active_cancel',
    'sv_being_canceled',
    'sv_idle',
    'sv_used',
    'sv_tested',
    'sv_login',
    'maxwait',
    'maxwait_us',
  ].map(gauge),
  { name: 'pool_mode', type: 'text' },
  // Newer releases; set only for databases with several hosts.
  { name: 'load_balance_hosts', type: 'text' },
];

/** Clients and server connections per pool (database and user) right now. */
export const pgbouncerPools = defineProbe({
  name: 'pgbouncer_pools',
  scope: 'server',
  targetKind: 'pgbouncer',
  description: 'PgBouncer SHOW POOLS: active, waiting and idle clients and servers per pool',
  retentionDays: 7,
  enabledByDefault: true,
  key: ['database', 'user'],
  columns: COLUMNS,
  read: (ctx) => readShow(ctx, 'SHOW POOLS', COLUMNS),
});
