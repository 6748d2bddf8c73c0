import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { ResolvedTarget } from '../../core/config/resolved-config.js';

/** What every monitoring session is tagged with, so DBAs can find (and trust) us. */
export const APPLICATION_NAME = 'pgquerylens';

/**
 * Marks every statement pgquerylens sends, so the slow-query collector can leave our own out,
 * as users expect of a monitor (nri-postgresql filters its own by text too). pg_stat_statements
 * keeps a leading comment in the text it stores up to PostgreSQL 17, and from 18 only a
 * trailing one, so the marker goes at both ends.
 */
export const OWN_SQL_MARKER = '/* pgquerylens */';

/** `sql` with the marker at both ends (the trailing one on its own line, past any `--`). */
export function markOwnSql(sql: string): string {
  return `${OWN_SQL_MARKER} ${sql}\n${OWN_SQL_MARKER}`;
}

/** Margin past statement_timeout before the client gives up on a silent server. */
export const CLIENT_TIMEOUT_MARGIN_MS = 2_000;

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const TIMESTAMP_OID = 1114;
const TIMESTAMPTZ_OID = 1184;

/**
 * int8 and numeric become numbers (statistics counters; identifiers such as queryid are cast
 * to text in SQL), timestamps ISO strings, so rows are JSON-ready. Set per client, never
 * globally, so a host application's own pg use is untouched.
 */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    switch (oid) {
      case INT8_OID:
      case NUMERIC_OID:
        return (value) => Number(value);
      case TIMESTAMPTZ_OID:
        return (value) => new Date(value).toISOString();
      case TIMESTAMP_OID:
        return (value) => new Date(`${value}Z`).toISOString();
      default:
        return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
    }
  },
};

function tlsOptions(target: ResolvedTarget): false | ConnectionOptions {
  const { mode, rootCertPath, certPath, keyPath } = target.ssl;
  if (mode === 'disable' || mode === 'allow') {
    return false;
  }
  // Read at connect time so rotated certificates are picked up without a restart.
  const files: ConnectionOptions = {
    ...(rootCertPath === undefined ? {} : { ca: readFileSync(rootCertPath, 'utf8') }),
    ...(certPath === undefined ? {} : { cert: readFileSync(certPath, 'utf8') }),
    ...(keyPath === undefined ? {} : { key: readFileSync(keyPath, 'utf8') }),
  };
  switch (mode) {
    case 'prefer':
    case 'require':
      return { ...files, rejectUnauthorized: false };
    case 'verify-ca':
      return { ...files, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...files, rejectUnauthorized: true };
  }
}

/** Client settings for a monitoring session on `database`. */
export function pgClientConfig(target: ResolvedTarget, database: string): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    database,
    ...(target.user === undefined ? {} : { user: target.user }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ssl: tlsOptions(target),
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: target.connectTimeoutMs,
    statement_timeout: target.statementTimeoutMs,
    // Client-side backstop for a server that stops answering without closing the socket.
    query_timeout: target.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
    lock_timeout: target.lockTimeoutMs,
    // JIT compiling monitoring queries costs the monitored server more than it saves.
    options: '-c jit=off',
    types: typeParsers,
    keepAlive: true,
  };
}
