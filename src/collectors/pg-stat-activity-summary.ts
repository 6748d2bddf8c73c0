import type { Collector } from '../core/collector.js';
import { probeSample } from './probe-sample.js';

// Grouped in SQL so the result stays small however many sessions the server has. An active
// session with no wait event is on CPU (or in an uninstrumented path), as ASH tools label it.
const SQL = `
SELECT coalesce(datname, '') AS datname,
       coalesce(state, CASE WHEN backend_type = 'client backend' THEN 'unknown' ELSE 'background' END)
         AS state,
       coalesce(wait_event_type, CASE WHEN state = 'active' THEN 'CPU' ELSE '' END) AS wait_event_type,
       coalesce(backend_type, '') AS backend_type,
       count(*)::int AS sessions,
       coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float8
         AS max_xact_age_seconds,
       coalesce(max(extract(epoch FROM clock_timestamp() - query_start))
                  FILTER (WHERE state = 'active'), 0)::float8 AS max_active_query_seconds,
       coalesce(max(extract(epoch FROM clock_timestamp() - state_change))
                  FILTER (WHERE state LIKE 'idle in transaction%'), 0)::float8
         AS max_idle_in_transaction_seconds
  FROM pg_stat_activity
 WHERE pid <> pg_backend_pid()
 GROUP BY 1, 2, 3, 4
 ORDER BY 1, 2, 3, 4`;

/** Sessions counted by database, state, wait event type and backend type. */
export const pgStatActivitySummaryCollector: Collector = {
  name: 'pg_stat_activity_summary',
  scope: 'server',
  description: 'Sessions by database, state, wait event type and backend type, with oldest ages',
  async collect(ctx) {
    const rows = await ctx.session.query(SQL);
    return { probes: [probeSample(this, ctx, rows)] };
  },
};
