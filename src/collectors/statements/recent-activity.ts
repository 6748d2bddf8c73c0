import type { CollectContext } from '../../core/collector.js';
import type { QueryPerformanceSettings } from '../../core/config/query-performance-settings.js';
import type { AshSample } from '../../core/model/ash-sample.js';
import { activitySample, type ActivityRow } from '../ash/activity-sample.js';
import { ashSampleSql } from '../ash/ash-sql.js';
import { activityText } from '../query-text/activity-text.js';

/**
 * One read of the sessions now, shaped like ASH samples: where no sampler runs, recent
 * executions come from what is running at collection time.
 */
export async function recentActivity(
  ctx: CollectContext,
  settings: QueryPerformanceSettings,
): Promise<AshSample[]> {
  const rows = await ctx.session.query<ActivityRow & Record<string, unknown>>(
    ashSampleSql(ctx.session.facts),
    [settings.queryTextMaxLength],
  );
  return rows.map((row) =>
    activitySample(
      row,
      0,
      activityText(row.query, { mode: settings.queryText, maxLength: settings.queryTextMaxLength }),
    ),
  );
}
