import type { ParsedTelemetry } from './config-schema.js';

/** The self-telemetry HTTP listener (/healthz, /readyz, /metrics). */
export interface TelemetrySettings {
  /** undefined: the mode decides (on, except for the NRI one-shot run). */
  readonly enabled: boolean | undefined;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Also serve the PostgreSQL metrics on /metrics (Prometheus pull). */
  readonly prometheus: boolean;
}

export const TELEMETRY_DEFAULTS = {
  // All interfaces: kubelet probes and Prometheus scrape the pod's address, not loopback.
  host: '0.0.0.0',
  // The port OpenTelemetry's Prometheus exporter uses by convention.
  port: 9464,
} as const;

export function resolveTelemetry(parsed: ParsedTelemetry): TelemetrySettings {
  return {
    enabled: parsed.enabled,
    host: parsed.host ?? TELEMETRY_DEFAULTS.host,
    port: parsed.port ?? TELEMETRY_DEFAULTS.port,
    prometheus: parsed.prometheus ?? false,
  };
}
