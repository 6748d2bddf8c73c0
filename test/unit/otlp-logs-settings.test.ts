import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ParsedOtlp } from '../../src/core/config/config-schema.js';
import { resolveOtlpLogs } from '../../src/core/config/otlp-logs-settings.js';
import { resolveOtlp } from '../../src/core/config/otlp-settings.js';
import { formatConfigIssue, type ConfigIssue } from '../../src/core/errors.js';
import { redact } from '../../src/core/redact.js';

/** Both resolutions, in the order the config loader runs them, sharing one issue list. */
function resolve(env: NodeJS.ProcessEnv, parsed: ParsedOtlp = {}) {
  const issues: ConfigIssue[] = [];
  const metrics = resolveOtlp(parsed, env, 30_000, issues);
  const logs = resolveOtlpLogs(parsed, metrics, env, issues);
  return { logs, metrics, issues };
}

describe('OTLP logs settings', () => {
  it('defaults: on, gRPC on localhost:4317, every event but raw ASH samples', () => {
    const { logs, issues } = resolve({});
    expect(issues).toEqual([]);
    expect(logs).toEqual({
      enabled: true,
      protocol: 'grpc',
      endpoint: 'http://localhost:4317',
      headers: {},
      timeoutMs: 10_000,
      compression: 'none',
      tls: { insecure: false },
      events: {
        topQueries: true,
        querySamples: true,
        plans: true,
        planChanges: true,
        blockingChains: true,
        ashSamples: false,
      },
      attributeValueLengthLimit: 8192,
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
    });
  });

  it('takes the protocol from otlp.logs, then the LOGS variable, then otlp, then the generic one', () => {
    expect(resolve({}, { logs: { protocol: 'http/json' } }).logs.protocol).toBe('http/json');
    expect(
      resolve(
        { OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' },
        { logs: { protocol: 'http/protobuf' } },
      ).logs.protocol,
    ).toBe('http/protobuf');
    expect(
      resolve({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' }, { protocol: 'grpc' }).logs
        .protocol,
    ).toBe('http/json');
    expect(
      resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, { protocol: 'http/protobuf' }).logs.protocol,
    ).toBe('http/protobuf');
    expect(resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).logs.protocol).toBe(
      'http/protobuf',
    );
    // Unset everywhere for logs: the metrics' protocol, even from their own variable.
    expect(resolve({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' }).logs.protocol).toBe(
      'http/protobuf',
    );
  });

  it('uses a LOGS endpoint as is and appends /v1/logs to the generic one for HTTP only', () => {
    const generic = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/' };
    expect(
      resolve({ ...generic, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' }).logs.endpoint,
    ).toBe('http://otel:4318/v1/logs');
    expect(resolve({ ...generic, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).logs.endpoint).toBe(
      'http://otel:4318/v1/logs',
    );
    expect(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4317' }).logs.endpoint).toBe(
      'http://otel:4317',
    );
    expect(
      resolve({
        ...generic,
        OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://vl:9428/insert/opentelemetry/v1/logs',
      }).logs.endpoint,
    ).toBe('http://vl:9428/insert/opentelemetry/v1/logs');
    expect(
      resolve(
        { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://from-env:4317' },
        { logs: { endpoint: 'http://from-file:4317' } },
      ).logs.endpoint,
    ).toBe('http://from-file:4317');
    // The metrics' own variable is theirs alone.
    expect(
      resolve({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics-only:4317' }).logs.endpoint,
    ).toBe('http://localhost:4317');
    expect(resolve({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' }).logs.endpoint).toBe(
      'http://localhost:4318/v1/logs',
    );
  });

  it("derives the endpoint from the file's metrics endpoint", () => {
    expect(resolve({}, { endpoint: 'http://otel:4317' }).logs.endpoint).toBe('http://otel:4317');
    expect(
      resolve(
        {},
        { protocol: 'http/protobuf', endpoint: 'http://vm:8428/opentelemetry/v1/metrics' },
      ).logs.endpoint,
    ).toBe('http://vm:8428/opentelemetry/v1/logs');
    expect(
      resolve(
        {},
        {
          protocol: 'http/protobuf',
          endpoint: 'https://otel:4318/v1/metrics',
          logs: { protocol: 'http/json' },
        },
      ).logs.endpoint,
    ).toBe('https://otel:4318/v1/logs');
    // The file's endpoint beats the generic variable, as it does for the metrics.
    const both = resolve(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317' },
      { endpoint: 'http://file:4317' },
    );
    expect(both.metrics.endpoint).toBe('http://file:4317');
    expect(both.logs.endpoint).toBe('http://file:4317');
  });

  it('refuses to guess when the metrics endpoint does not translate, unless logs are off', () => {
    const grpcToHttp = resolve(
      {},
      { endpoint: 'http://otel:4317', logs: { protocol: 'http/protobuf' } },
    );
    expect(grpcToHttp.issues.map((i) => i.path)).toEqual(['otlp.logs.endpoint']);
    const custom = resolve({}, { protocol: 'http/protobuf', endpoint: 'http://vm:8428/custom' });
    expect(custom.issues.map((i) => i.path)).toEqual(['otlp.logs.endpoint']);
    const off = resolve(
      {},
      { protocol: 'http/protobuf', endpoint: 'http://vm:8428/custom', logs: { enabled: false } },
    );
    expect(off.issues).toEqual([]);
    expect(off.logs.enabled).toBe(false);
    // A generic variable is a usable answer before giving up.
    const generic = resolve(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' },
      { endpoint: 'http://otel:4317', logs: { protocol: 'http/protobuf' } },
    );
    expect(generic.issues).toEqual([]);
    expect(generic.logs.endpoint).toBe('http://otel:4318/v1/logs');
  });

  it('layers headers, timeout and compression, and keeps metrics-only variables out', () => {
    const { logs } = resolve(
      {
        OTEL_EXPORTER_OTLP_HEADERS: 'x-generic=g',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-metrics=m',
        OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '1000',
        OTEL_EXPORTER_OTLP_TIMEOUT: '4000',
        OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
      },
      {},
    );
    expect(logs).toMatchObject({
      headers: { 'x-generic': 'g' },
      timeoutMs: 4000,
      compression: 'gzip',
    });
    const file = resolve(
      { OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-logs=l', OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '3000' },
      { headers: { 'x-file': 'f' }, timeout: 2_000, compression: 'gzip' },
    ).logs;
    expect(file).toMatchObject({
      headers: { 'x-logs': 'l' },
      timeoutMs: 3000,
      compression: 'gzip',
    });
    const own = resolve(
      { OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-logs=l' },
      {
        logs: { headers: { 'x-own': 'o' }, timeout: 500, compression: 'none' },
        compression: 'gzip',
      },
    ).logs;
    expect(own).toMatchObject({ headers: { 'x-own': 'o' }, timeoutMs: 500, compression: 'none' });
    expect(resolve({}, { headers: { 'x-file': 'f' } }).logs.headers).toEqual({ 'x-file': 'f' });
  });

  it('masks header values and never echoes them in issues', () => {
    const { logs } = resolve({
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'authorization=Bearer%20logs-t0ken-xyz',
    });
    expect(logs.headers).toEqual({ authorization: 'Bearer logs-t0ken-xyz' });
    expect(redact('sent Bearer logs-t0ken-xyz')).not.toContain('logs-t0ken-xyz');
    resolve({}, { logs: { headers: { 'x-api-key': 'file-k3y-abc' } } });
    expect(redact('key file-k3y-abc')).not.toContain('file-k3y-abc');

    const { issues } = resolve({ OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'broken-s3cret-value' });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('OTEL_EXPORTER_OTLP_LOGS_HEADERS');
    expect(formatConfigIssue(issues[0]!)).not.toContain('s3cret');
  });

  it('names each malformed variable, once', () => {
    const { issues } = resolve({
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/xml',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'ftp://vl:21',
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '10s',
      OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'br',
      OTEL_EXPORTER_OTLP_LOGS_INSECURE: 'yes',
      // Also malformed for the metrics: reported by resolveOtlp, not a second time.
      OTEL_EXPORTER_OTLP_TIMEOUT: 'soon',
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'OTEL_EXPORTER_OTLP_LOGS_COMPRESSION',
      'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
      'OTEL_EXPORTER_OTLP_LOGS_INSECURE',
      'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL',
      'OTEL_EXPORTER_OTLP_LOGS_TIMEOUT',
      'OTEL_EXPORTER_OTLP_TIMEOUT',
    ]);
    // A generic variable only the logs read (the metrics' own one set) is still reported.
    const generic = resolve({
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd',
    });
    expect(generic.issues.map((i) => i.path)).toEqual(['OTEL_EXPORTER_OTLP_COMPRESSION']);
    expect(generic.logs.compression).toBe('none');
  });

  it('carries TLS files and insecure: file keys, then LOGS variables, then generic ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgql-logs-tls-'));
    const pem = (name: string): string => {
      const path = join(dir, name);
      writeFileSync(path, 'PEM');
      return path;
    };
    const [genericCa, logsCert, logsKey, fileCa] = [
      pem('generic-ca.pem'),
      pem('logs-cert.pem'),
      pem('logs-key.pem'),
      pem('file-ca.pem'),
    ];
    try {
      const env = {
        OTEL_EXPORTER_OTLP_CERTIFICATE: genericCa,
        OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: logsCert,
        OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: logsKey,
        OTEL_EXPORTER_OTLP_INSECURE: 'TRUE',
      };
      const fromEnv = resolve(env);
      expect(fromEnv.issues).toEqual([]);
      expect(fromEnv.logs.tls).toEqual({
        certificate: genericCa,
        clientCertificate: logsCert,
        clientKey: logsKey,
        insecure: true,
      });
      // The metrics do not read the LOGS variables.
      expect(fromEnv.metrics.tls).toEqual({ certificate: genericCa, insecure: true });
      const fromFile = resolve(env, { certificate: fileCa, insecure: false }).logs.tls;
      expect(fromFile).toMatchObject({ certificate: fileCa, insecure: false });
      // An unreadable file is one issue, even though both signals read it.
      const missing = resolve({}, { certificate: join(dir, 'missing.pem') });
      expect(missing.issues.map((i) => i.path)).toEqual(['otlp.certificate']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies event switches and clamps the batch size to the queue', () => {
    const { logs } = resolve(
      {},
      {
        logs: {
          events: { ashSamples: true, plans: false },
          maxQueueSize: 100,
          maxExportBatchSize: 500,
          attributeValueLengthLimit: 1024,
        },
      },
    );
    expect(logs.events).toMatchObject({ ashSamples: true, plans: false, topQueries: true });
    expect(logs).toMatchObject({
      maxQueueSize: 100,
      maxExportBatchSize: 100,
      attributeValueLengthLimit: 1024,
    });
  });
});
