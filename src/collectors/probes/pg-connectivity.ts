import { performance } from 'node:perf_hooks';
import type { Row } from '../../core/target-connector.js';
import { defineProbe } from './define-probe.js';

/**
 * Round trip of a trivial statement on an open session, as a client sees it: network plus
 * server responsiveness, without connection setup.
 */
export const pgConnectivity = defineProbe({
  name: 'pg_connectivity',
  scope: 'server',
  description: 'Response time of SELECT 1 from the collector, in milliseconds',
  retentionDays: 7,
  enabledByDefault: true,
  key: [],
  columns: [{ name: 'response_time_ms', type: 'float8' }],
  read: async (ctx): Promise<readonly Row[]> => {
    const started = performance.now();
    await ctx.session.query('SELECT 1');
    return [{ response_time_ms: performance.now() - started }];
  },
});
