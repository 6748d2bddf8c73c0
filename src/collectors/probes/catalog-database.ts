import type { ProbeCollector } from './define-probe.js';
import { pgStatDatabase } from './pg-stat-database.js';

/** Probes read once in every monitored database. */
export const DATABASE_PROBES: readonly ProbeCollector[] = [pgStatDatabase];
