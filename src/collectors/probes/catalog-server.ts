import type { ProbeCollector } from './define-probe.js';
import { pgConnectivity } from './pg-connectivity.js';
import { pgDatabase } from './pg-database.js';
import { pgHbaFileRules } from './pg-hba-file-rules.js';
import { pgIdentFileMappings } from './pg-ident-file-mappings.js';
import { pgNodeRole } from './pg-node-role.js';
import { pgReplicationLag } from './pg-replication-lag.js';
import { pgReplicationSlots } from './pg-replication-slots.js';
import { pgServerInfo } from './pg-server-info.js';
import { pgSettings } from './pg-settings.js';
import { pgStatActivity } from './pg-stat-activity.js';
import { pgStatActivitySummary } from './pg-stat-activity-summary.js';
import { pgStatBgwriter } from './pg-stat-bgwriter.js';
import { pgStatCheckpointer } from './pg-stat-checkpointer.js';
import { pgStatConnectionSecurity } from './pg-stat-connection-security.js';
import { pgStatIo } from './pg-stat-io.js';
import { pgStatRecoveryPrefetch } from './pg-stat-recovery-prefetch.js';
import { pgStatReplication } from './pg-stat-replication.js';
import { pgStatSlru } from './pg-stat-slru.js';
import { pgStatSubscription } from './pg-stat-subscription.js';
import { pgStatWal } from './pg-stat-wal.js';

/** Probes read once per server, on the target's own database. */
export const SERVER_PROBES: readonly ProbeCollector[] = [
  pgConnectivity,
  pgServerInfo,
  pgNodeRole,
  pgStatActivitySummary,
  pgStatActivity,
  pgStatConnectionSecurity,
  pgDatabase,
  pgStatReplication,
  pgReplicationLag,
  pgReplicationSlots,
  pgStatSubscription,
  pgStatRecoveryPrefetch,
  pgStatWal,
  pgStatCheckpointer,
  pgStatBgwriter,
  pgStatIo,
  pgStatSlru,
  pgSettings,
  pgHbaFileRules,
  pgIdentFileMappings,
];
