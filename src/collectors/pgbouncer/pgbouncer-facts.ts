import type { ServerFacts } from '../../core/server-facts.js';

/**
 * ServerFacts for a PgBouncer console, from its SHOW VERSION ("PgBouncer 1.18.0"). The facts
 * are PostgreSQL-shaped; here they say "none of that": major 0 (every `minMajor` check fails),
 * no extensions, no roles, never a standby. `versionNum` is PgBouncer's own, major*10000 +
 * minor*100 + patch (1.18.0 → 11800), 0 when unparseable; `version` the string as reported.
 */
export function pgbouncerFacts(showVersion: unknown): ServerFacts {
  const version = typeof showVersion === 'string' ? showVersion.trim() : 'PgBouncer (unknown)';
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  const versionNum =
    match === null
      ? 0
      : Number(match[1]) * 10_000 + Number(match[2]) * 100 + Number(match[3] ?? '0');
  return Object.freeze({
    product: 'pgbouncer',
    versionNum,
    version,
    major: 0,
    extensions: Object.freeze({}),
    isInRecovery: false,
    hasPgMonitor: false,
    hasReadAllStats: false,
    isSuperuser: false,
    canReadHbaFileRules: false,
    canReadIdentFileMappings: false,
    database: 'pgbouncer',
  });
}
