import { CollectorRegistry } from '../core/collector-registry.js';
import type { ProbeSchema } from '../core/probe-schema.js';
import { DATABASE_PROBES } from './probes/catalog-database.js';
import { EXTENSION_PROBES } from './probes/catalog-extensions.js';
import { MAINTENANCE_PROBES } from './probes/catalog-maintenance.js';
import { PGBOUNCER_PROBES } from './probes/catalog-pgbouncer.js';
import { SERVER_PROBES } from './probes/catalog-server.js';
import { STATEMENT_PROBES } from './probes/catalog-statements.js';
import type { ProbeCollector } from './probes/define-probe.js';

/** Every probe shipped with pgquerylens, server-scoped first. */
export const BUILTIN_PROBES: readonly ProbeCollector[] = [
  ...SERVER_PROBES,
  ...MAINTENANCE_PROBES,
  ...STATEMENT_PROBES,
  ...EXTENSION_PROBES,
  ...DATABASE_PROBES,
  ...PGBOUNCER_PROBES,
];

/** The registry of every collector shipped with pgquerylens. */
export function builtinCollectors(): CollectorRegistry {
  const registry = new CollectorRegistry();
  for (const probe of BUILTIN_PROBES) {
    registry.register(probe, { enabledByDefault: probe.spec.enabledByDefault });
  }
  return registry;
}

/** Names of the shipped collectors, for validating `collectors:` in configuration. */
export function builtinCollectorNames(): string[] {
  return BUILTIN_PROBES.map((p) => p.name);
}

/** Row shapes of every shipped probe, for adapters that store rows (the datastore). */
export function builtinProbeSchemas(): ProbeSchema[] {
  return BUILTIN_PROBES.map((p) => p.schema);
}
