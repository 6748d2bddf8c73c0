import { pgbouncerPools } from '../pgbouncer/pgbouncer-pools.js';
import { pgbouncerStats } from '../pgbouncer/pgbouncer-stats.js';
import type { ProbeCollector } from './define-probe.js';

/** Probes of PgBouncer targets (`type: pgbouncer`); they never run on a PostgreSQL target. */
export const PGBOUNCER_PROBES: readonly ProbeCollector[] = [pgbouncerStats, pgbouncerPools];
