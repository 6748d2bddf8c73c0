import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveOtlp } from '../../src/core/config/otlp-settings.js';
import type { ConfigIssue } from '../../src/core/errors.js';
import { redact } from '../../src/core/redact.js';

function resolve(env: NodeJS.ProcessEnv, parsed: Parameters<typeof resolveOtlp>[0] = {}) {
  const issues: ConfigIssue[] = [];
  const settings = resolveOtlp(parsed, env, 30_000, issues);
  return { settings, issues };
}

describe('OTLP settings', () => {
  it('defaults to gRPC on localhost:4317 at the base interval', () => {
    const { settings, issues } = resolve({});
    expect(issues).toEqual([]);
    expect(settings).toMatchObject({
      protocol: 'grpc',
      endpoint: 'http://localhost:4317',
      timeoutMs: 10_000,
      compression: 'none',
      exportIntervalMs: 30_000,
      serviceName: 'pgquerylens',
      cardinalityLimit: 20_000,
    });
    expect(resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).settings.endpoint).toBe(
      'http://localhost:4318/v1/metrics',
    );
  });

  it('appends /v1/metrics to the generic endpoint for HTTP only; per-signal wins as is', () => {
    const generic = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://vm:8428/opentelemetry/' };
    expect(
      resolve({ ...generic, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' }).settings
        .endpoint,
    ).toBe('http://vm:8428/opentelemetry/v1/metrics');
    expect(resolve(generic).settings.endpoint).toBe('http://vm:8428/opentelemetry/');
    expect(
      resolve({ ...generic, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4317' }).settings
        .endpoint,
    ).toBe('http://c:4317');
  });

  it('lets the config win over the environment', () => {
    const { settings } = resolve(
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
        OTEL_METRIC_EXPORT_INTERVAL: '15000',
        OTEL_SERVICE_NAME: 'from-env',
      },
      { protocol: 'http/protobuf', timeout: 2_000, exportInterval: 60_000, serviceName: 'cfg' },
    );
    expect(settings).toMatchObject({
      protocol: 'http/protobuf',
      timeoutMs: 2_000,
      exportIntervalMs: 60_000,
      serviceName: 'cfg',
    });
    expect(resolve({ OTEL_METRIC_EXPORT_INTERVAL: '15000' }).settings.exportIntervalMs).toBe(
      15_000,
    );
  });

  it('reads URL-decoded headers and resource attributes, and masks header values', () => {
    const { settings } = resolve({
      OTEL_EXPORTER_OTLP_HEADERS: 'x-generic=1',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=Bearer%20s3cr3t-token, x-org = 42',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,service.name=res-name',
    });
    expect(settings.headers).toEqual({ authorization: 'Bearer s3cr3t-token', 'x-org': '42' });
    expect(settings.resourceAttributes['deployment.environment.name']).toBe('prod');
    expect(settings.serviceName).toBe('res-name');
    expect(redact('sent Bearer s3cr3t-token')).not.toContain('s3cr3t-token');
  });

  it('names the variable of a malformed value', () => {
    const { issues } = resolve({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '10s',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'br',
      OTEL_EXPORTER_OTLP_HEADERS: 'novalue',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'not a url',
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'OTEL_EXPORTER_OTLP_COMPRESSION',
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    ]);
  });

  it('takes TLS files from the per-signal variable, then the generic one, and checks them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pgql-tls-'));
    const ca = path.join(dir, 'ca.pem');
    const other = path.join(dir, 'other.pem');
    writeFileSync(ca, 'x');
    writeFileSync(other, 'x');
    const both = resolve({
      OTEL_EXPORTER_OTLP_CERTIFICATE: other,
      OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: ca,
      OTEL_EXPORTER_OTLP_INSECURE: 'true',
    });
    expect(both.issues).toEqual([]);
    expect(both.settings.tls).toEqual({ certificate: ca, insecure: true });
    expect(resolve({ OTEL_EXPORTER_OTLP_CERTIFICATE: other }).settings.tls.certificate).toBe(other);
    expect(resolve({}, { certificate: ca }).settings.tls).toEqual({
      certificate: ca,
      insecure: false,
    });

    const missing = resolve({ OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: path.join(dir, 'nope.pem') });
    expect(missing.issues.map((i) => i.path)).toEqual(['OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE']);
    const halfPair = resolve({ OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: other });
    expect(halfPair.issues.map((i) => i.path)).toEqual(['otlp.clientCertificate']);
    const badFlag = resolve({ OTEL_EXPORTER_OTLP_INSECURE: 'maybe' });
    expect(badFlag.issues.map((i) => i.path)).toEqual(['OTEL_EXPORTER_OTLP_INSECURE']);
  });

  it('gives a gRPC endpoint written as host:port a scheme from INSECURE', () => {
    expect(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otelcol:4317' }).settings.endpoint).toBe(
      'https://otelcol:4317',
    );
    const plain = resolve({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'otelcol:4317',
      OTEL_EXPORTER_OTLP_INSECURE: 'true',
    });
    expect(plain.issues).toEqual([]);
    expect(plain.settings.endpoint).toBe('http://otelcol:4317');
    // A scheme, when written, decides.
    expect(
      resolve({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otelcol:4317',
        OTEL_EXPORTER_OTLP_INSECURE: 'true',
      }).settings.endpoint,
    ).toBe('https://otelcol:4317');
  });
});
