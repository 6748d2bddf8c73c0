import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { OtlpSettings } from '../../core/config/otlp-settings.js';
import type { TargetIdentity } from '../../core/model/target-identity.js';

/** The postgresqlreceiver's UUIDv5 namespace for `service.instance.id` (semconv mode). */
const RECEIVER_NAMESPACE = '4d63009a-8d0f-11ee-aad7-4c796ed8e320';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '']);

/**
 * Resource attributes of one monitored server, the receiver's semconv model: the server's
 * identity, then the target's labels, then OTEL_RESOURCE_ATTRIBUTES / `otlp.resourceAttributes`,
 * with the identity keys winning so a label cannot merge two servers' series.
 */
export function targetResourceAttributes(
  target: TargetIdentity,
  settings: OtlpSettings,
): Record<string, string | number> {
  return {
    ...settings.resourceAttributes,
    ...target.labels,
    'service.name': settings.serviceName,
    'service.instance.id': serviceInstanceId(target.host, target.port),
    'server.address': target.host,
    'server.port': target.port,
    'db.system.name': 'postgresql',
  };
}

/**
 * UUIDv5 of `host:port`, as the receiver seeds it, so a server keeps its instance id across
 * restarts and collector moves. A local or socket address is the same string on every machine,
 * so the machine's name joins the seed there.
 */
export function serviceInstanceId(host: string, port: number): string {
  const local = LOCAL_HOSTS.has(host) || host.startsWith('/');
  return uuidV5(`${host}:${port}${local ? `@${hostname()}` : ''}`, RECEIVER_NAMESPACE);
}

/** RFC 4122 name-based UUID (SHA-1). */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What a target's resource is built from: host, port and labels. */
export function identityKey(target: TargetIdentity): string {
  return JSON.stringify([target.host, target.port, target.labels]);
}
