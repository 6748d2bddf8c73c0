import { defineProbe } from './define-probe.js';

/**
 * Encryption and authentication of every client connection (walsenders included), so
 * unencrypted or weak-cipher connections can be found. Background processes are left out:
 * they have no connection.
 */
export const pgStatConnectionSecurity = defineProbe({
  name: 'pg_stat_connection_security',
  scope: 'server',
  description:
    'SSL/TLS and GSSAPI state of each client connection: protocol, cipher, certificates, principal',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: ['pid'],
  columns: [
    { name: 'pid', type: 'int8', sql: 'a.pid' },
    { name: 'usename', type: 'text', sql: 'a.usename' },
    { name: 'datname', type: 'text', sql: 'a.datname' },
    { name: 'application_name', type: 'text', sql: 'a.application_name' },
    { name: 'client_addr', type: 'text', sql: 'host(a.client_addr)' },
    { name: 'backend_type', type: 'text', sql: 'a.backend_type' },
    { name: 'ssl', type: 'bool', sql: 's.ssl' },
    { name: 'ssl_version', type: 'text', sql: 's.version' },
    { name: 'cipher', type: 'text', sql: 's.cipher' },
    { name: 'bits', type: 'int8', sql: 's.bits' },
    { name: 'compression', type: 'bool', sql: 's.compression', until: 13 },
    { name: 'client_dn', type: 'text', sql: 's.client_dn' },
    // numeric: certificate serials are up to 20 bytes.
    { name: 'client_serial', type: 'text', sql: 's.client_serial::text' },
    { name: 'issuer_dn', type: 'text', sql: 's.issuer_dn' },
    { name: 'gss_authenticated', type: 'bool', sql: 'g.gss_authenticated' },
    { name: 'principal', type: 'text', sql: 'g.principal' },
    { name: 'gss_encrypted', type: 'bool', sql: 'g.encrypted' },
    { name: 'credentials_delegated', type: 'bool', sql: 'g.credentials_delegated', since: 16 },
  ],
  sql: (select) => `
    SELECT ${select}
      FROM pg_stat_activity a
      JOIN pg_stat_ssl s ON s.pid = a.pid
      LEFT JOIN pg_stat_gssapi g ON g.pid = a.pid
     WHERE a.backend_type IN ('client backend', 'walsender')
     ORDER BY a.pid`,
});
