import type { ProbeCollector } from './define-probe.js';

/** Server-wide probes of sessions, locks and maintenance progress. */
export const MAINTENANCE_PROBES: readonly ProbeCollector[] = [];
