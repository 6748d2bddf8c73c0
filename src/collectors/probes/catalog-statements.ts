import type { ProbeCollector } from './define-probe.js';
import { pgStatStatements } from './pg-stat-statements.js';

/** Statement statistics, read once per server from the extension in the target's database. */
export const STATEMENT_PROBES: readonly ProbeCollector[] = [pgStatStatements];
