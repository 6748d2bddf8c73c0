import type { ProbeCollector } from './define-probe.js';
import { pgLocks } from './pg-locks.js';
import { pgLongRunningSessions } from './pg-long-running-sessions.js';
import { pgStatProgressAnalyze } from './pg-stat-progress-analyze.js';
import { pgStatProgressBasebackup } from './pg-stat-progress-basebackup.js';
import { pgStatProgressCluster } from './pg-stat-progress-cluster.js';
import { pgStatProgressCopy } from './pg-stat-progress-copy.js';
import { pgStatProgressCreateIndex } from './pg-stat-progress-create-index.js';
import { pgStatProgressVacuum } from './pg-stat-progress-vacuum.js';

/** Server-wide probes of sessions, locks and maintenance progress. */
export const MAINTENANCE_PROBES: readonly ProbeCollector[] = [
  pgLocks,
  pgLongRunningSessions,
  pgStatProgressVacuum,
  pgStatProgressAnalyze,
  pgStatProgressCreateIndex,
  pgStatProgressCluster,
  pgStatProgressBasebackup,
  pgStatProgressCopy,
];
