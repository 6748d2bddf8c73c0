import { execFile } from 'node:child_process';
import { chmod, chown, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { OsUser } from '../../../src/cli/embedded/os-user.js';

const run = promisify(execFile);

/** Files of a CA and of a server certificate it signed. */
export interface TlsFiles {
  /** The CA certificate (PEM), what a client trusts. */
  readonly caCert: string;
  /** A CA that signed nothing here: trusting only it must fail. */
  readonly otherCaCert: string;
  readonly serverCert: string;
  /** 0600, owned by the server user, as PostgreSQL requires. */
  readonly serverKey: string;
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/** A self-signed CA (P-256), key and certificate in `dir`. */
async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=pgquerylens fault ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return { cert, key };
}

/**
 * A CA, a second unrelated CA, and a server certificate signed by the first for `dnsName`
 * only (CN and SAN): no IP address in it, so connecting by address fails verify-full.
 */
export async function makeTlsFiles(
  dir: string,
  dnsName: string,
  runAs: OsUser | undefined,
): Promise<TlsFiles> {
  const [ca, other] = await Promise.all([makeCa(dir, 'ca'), makeCa(dir, 'other-ca')]);
  const serverKey = path.join(dir, 'server.key');
  const csr = path.join(dir, 'server.csr');
  const serverCert = path.join(dir, 'server.pem');
  const ext = path.join(dir, 'server.ext');
  await writeFile(
    ext,
    [
      `subjectAltName=DNS:${dnsName}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      serverKey,
      '-out',
      csr,
      '-subj',
      `/CN=${dnsName}`,
    ],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-set_serial',
      '0x' + Date.now().toString(16),
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      serverCert,
    ],
    dir,
  );
  for (const file of [serverKey, serverCert, ca.cert]) {
    if (runAs !== undefined) await chown(file, runAs.uid, runAs.gid);
  }
  await chmod(serverKey, 0o600);
  return { caCert: ca.cert, otherCaCert: other.cert, serverCert, serverKey };
}
