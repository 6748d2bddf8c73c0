import { CollectorRegistry } from '../core/collector-registry.js';
import { pgSettingsCollector } from './pg-settings.js';
import { pgStatActivitySummaryCollector } from './pg-stat-activity-summary.js';
import { pgStatDatabaseCollector } from './pg-stat-database.js';

/** The registry of every collector shipped with pgquerylens. */
export function builtinCollectors(): CollectorRegistry {
  return new CollectorRegistry()
    .register(pgStatDatabaseCollector, { enabledByDefault: true })
    .register(pgStatActivitySummaryCollector, { enabledByDefault: true })
    .register(pgSettingsCollector, { enabledByDefault: true });
}

/** Names of the shipped collectors, for validating `collectors:` in configuration. */
export function builtinCollectorNames(): string[] {
  return builtinCollectors()
    .list()
    .map((d) => d.collector.name);
}
