import { renderSelfMetrics } from '../adapters/prometheus/prometheus-exposition.js';
import type { TelemetrySettings } from '../core/config/telemetry-settings.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { BuiltAdapters } from './build-adapters.js';
import type { SelfTelemetry } from './self-telemetry.js';
import { TelemetryServer } from './telemetry-server.js';

/**
 * Starts /healthz, /readyz and /metrics. A listener that cannot start (port taken) is reported
 * and skipped: collecting and exporting matter more than the collector's own endpoint.
 */
export async function startTelemetryListener(
  settings: TelemetrySettings,
  self: SelfTelemetry,
  built: BuiltAdapters,
  logger: Logger,
): Promise<TelemetryServer | undefined> {
  const prometheus = built.prometheus;
  try {
    const server = await TelemetryServer.start({
      host: settings.host,
      port: settings.port,
      logger,
      readiness: () => self.readiness(),
      metrics: () =>
        prometheus === undefined
          ? renderSelfMetrics(self.selfMetrics())
          : prometheus.render(self.selfMetrics()),
    });
    logger.info('telemetry listening', {
      host: settings.host,
      port: server.port,
      paths: ['/healthz', '/readyz', '/metrics'],
      postgresqlMetrics: prometheus !== undefined,
    });
    return server;
  } catch (err) {
    logger.warn('telemetry listener not started; collection goes on without it', {
      host: settings.host,
      port: settings.port,
      err: errorMessage(err),
    });
    return undefined;
  }
}
