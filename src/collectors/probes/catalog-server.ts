import type { ProbeCollector } from './define-probe.js';
import { pgSettings } from './pg-settings.js';
import { pgStatActivitySummary } from './pg-stat-activity-summary.js';

/** Probes read once per server, on the target's own database. */
export const SERVER_PROBES: readonly ProbeCollector[] = [pgStatActivitySummary, pgSettings];
