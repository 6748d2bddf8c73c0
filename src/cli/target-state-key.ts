import { createHash } from 'node:crypto';
import type { ResolvedConfig } from '../core/config/resolved-config.js';
import type { TargetIdentity } from '../core/model/target-identity.js';

/**
 * Names a target's state files after everything that shapes that state, not only its name:
 * two integration entries watching one server with different databases or users (nri-postgresql
 * names both `host:port`) must not share a statement baseline or rates.
 */
export function targetStateKey(config: ResolvedConfig): (target: TargetIdentity) => string {
  return (identity) => {
    const t = config.targets.find((c) => c.name === identity.name);
    const shape = {
      name: identity.name,
      host: identity.host,
      port: identity.port,
      ...(t === undefined
        ? {}
        : {
            kind: t.kind,
            user: t.user ?? null,
            database: t.database,
            databases: t.databases,
            excludeDatabases: t.excludeDatabases,
          }),
      collection: config.nri.collection ?? null,
    };
    return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
  };
}
