import { readFileSync } from 'node:fs';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { OtlpTls } from '../../core/config/otlp-settings.js';

/**
 * gRPC channel credentials from the TLS settings: plaintext for `http://`, TLS with the
 * configured CA and client pair for `https://` (the system's CAs when none is given). The scheme
 * decides; `insecure` only chose it for an endpoint written without one (otlp-settings.ts).
 * Explicit rather than left to the exporter's own variable reading, which drops an unreadable
 * file silently.
 */
export function grpcCredentials(tls: OtlpTls, endpoint: string): ChannelCredentials {
  if (endpoint.startsWith('http://')) return credentials.createInsecure();
  return credentials.createSsl(
    read(tls.certificate),
    read(tls.clientKey) ?? null,
    read(tls.clientCertificate) ?? null,
  );
}

/** Agent options for an `https://` endpoint; an empty object when nothing is configured. */
export function httpsAgentOptions(tls: OtlpTls): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const ca = read(tls.certificate);
  const cert = read(tls.clientCertificate);
  const key = read(tls.clientKey);
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
}

function read(path: string | undefined): Buffer | undefined {
  return path === undefined ? undefined : readFileSync(path);
}
