import type { ConfigIssue } from '../errors.js';

/** OTLP transports: gRPC, HTTP with protobuf bodies (VictoriaMetrics, Prometheus) or JSON. */
export const OTLP_PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** A variable that was set: its name (for messages) and its trimmed value. */
export type EnvValue = { readonly name: string; readonly value: string } | undefined;

/** Where a malformed value is reported. */
export type Report = (issue: ConfigIssue) => void;

/** The parsers of the OTEL_EXPORTER_OTLP_* values both signals read; undefined when unset or bad. */
export function parseProtocol(found: EnvValue, report: Report): OtlpProtocol | undefined {
  if (found === undefined) return undefined;
  if ((OTLP_PROTOCOLS as readonly string[]).includes(found.value)) {
    return found.value as OtlpProtocol;
  }
  report({
    path: found.name,
    message: `unsupported protocol ${JSON.stringify(found.value)}: use grpc, http/protobuf or http/json`,
  });
  return undefined;
}

/** `k=v,k2=v2` with URL-encoded keys and values (W3C Baggage-like, as the OTel spec says). */
export function parseKeyValues(
  found: EnvValue,
  report: Report,
): Record<string, string> | undefined {
  if (found === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of found.value.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    try {
      if (eq <= 0) throw new Error('no key');
      const key = decodeURIComponent(part.slice(0, eq).trim());
      if (key === '') throw new Error('no key');
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // The value may be a secret: never echo it.
      report({ path: found.name, message: 'malformed entry: use key=value,key2=value2' });
      return undefined;
    }
  }
  return out;
}

export function parseMs(found: EnvValue, report: Report): number | undefined {
  if (found === undefined) return undefined;
  const ms = Number(found.value);
  if (!/^\d+$/.test(found.value) || !Number.isSafeInteger(ms) || ms <= 0) {
    report({
      path: found.name,
      message: `invalid milliseconds ${JSON.stringify(found.value)}: use a positive integer`,
    });
    return undefined;
  }
  return ms;
}

export function parseCompression(found: EnvValue, report: Report): 'gzip' | 'none' | undefined {
  if (found === undefined) return undefined;
  if (found.value === 'gzip' || found.value === 'none') return found.value;
  report({
    path: found.name,
    message: `unsupported compression ${JSON.stringify(found.value)}: use gzip or none`,
  });
  return undefined;
}
