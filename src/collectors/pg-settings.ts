import type { Collector } from '../core/collector.js';
import { probeSample } from './probe-sample.js';

const SQL = `
SELECT name, setting, unit, category, vartype, source, boot_val, reset_val, pending_restart
  FROM pg_settings
 ORDER BY name`;

/** Every server setting with where it came from; changes slowly, so read every 10 minutes. */
export const pgSettingsCollector: Collector = {
  name: 'pg_settings',
  scope: 'server',
  description: 'Server configuration: value, unit, source, boot and reset values, pending restart',
  defaultIntervalMs: 10 * 60_000,
  async collect(ctx) {
    const rows = await ctx.session.query(SQL);
    return { probes: [probeSample(this, ctx, rows)] };
  },
};
