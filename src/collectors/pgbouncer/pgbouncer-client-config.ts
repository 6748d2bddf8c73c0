import type pg from 'pg';
import type { ResolvedTarget } from '../../core/config/resolved-config.js';
import { CLIENT_TIMEOUT_MARGIN_MS, pgClientConfig } from '../connection/pg-client-config.js';

/**
 * Client settings for the PgBouncer admin console: the PostgreSQL ones (TLS files, tags,
 * connect timeout) minus every startup parameter the console rejects (`options`,
 * `statement_timeout`, `lock_timeout` end the login with "unsupported startup parameter").
 * `application_name` is one PgBouncer tracks itself, so it stays. The only timeout left is the
 * client-side one.
 */
export function pgbouncerClientConfig(target: ResolvedTarget, database: string): pg.ClientConfig {
  const full = pgClientConfig(target, database);
  return {
    host: full.host,
    port: full.port,
    database,
    ...(full.user === undefined ? {} : { user: full.user }),
    ...(full.password === undefined ? {} : { password: full.password }),
    ssl: full.ssl,
    application_name: full.application_name,
    connectionTimeoutMillis: full.connectionTimeoutMillis,
    query_timeout: target.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
    keepAlive: true,
  };
}
