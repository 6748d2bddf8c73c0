import type { ProbeCollector } from './define-probe.js';
import { pgStatKcache } from './pg-stat-kcache.js';
import { pgWaitSamplingProfile } from './pg-wait-sampling-profile.js';

/** Probes of optional extensions (pg_stat_kcache, pg_wait_sampling); unavailable without them. */
export const EXTENSION_PROBES: readonly ProbeCollector[] = [pgStatKcache, pgWaitSamplingProfile];
