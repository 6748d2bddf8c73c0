import { PgTargetConnector } from '../collectors/connection/pg-target-connector.js';
import { builtinCollectors } from '../collectors/builtin-collectors.js';
import { TargetConnectors } from '../collectors/custom/target-connectors.js';
import { QueryPerformanceState } from '../collectors/query-performance-state.js';
import { PgBouncerConnector } from '../collectors/pgbouncer/pgbouncer-connector.js';
import type { ResolvedConfig } from '../core/config/resolved-config.js';
import { ConfigError, errorMessage, formatConfigIssue } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { withTimeout } from '../core/timeout.js';
import type { Logger } from '../core/logger.js';
import type { CliFlags } from './cli-flags.js';
import { DatastoreAdapter } from '../adapters/datastore/datastore-adapter.js';
import type { ExportAdapter } from '../core/export-adapter.js';
import { buildAdapters, type BuiltAdapters } from './build-adapters.js';
import { DatastoreTargetSync } from './datastore-target-sync.js';
import { CollectorApp } from './collector-app.js';
import { DemoWorkload } from './embedded/demo-workload.js';
import { EmbeddedServer } from './embedded/embedded-server.js';
import { EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_USAGE } from './exit-codes.js';
import { agentErrorPrefix } from './agent-prefix.js';
import { withNriCadence } from './nri-cadence.js';
import { configPathOf, loadCliConfig } from './load-cli-config.js';
import { createLogger } from './logger.js';
import { OneShotStateStore } from './one-shot-state.js';
import { prepareStateDirectory } from './state-directory.js';
import { targetStateKey } from './target-state-key.js';
import { StopSignal } from './stop-signal.js';
import { RunTelemetry } from '../core/run-telemetry.js';
import { ownsTarget } from '../core/sharding/rendezvous.js';
import type { SelfMeter } from '../adapters/otlp/self-meter.js';
import { SelfTelemetry } from './self-telemetry.js';
import { startTelemetryListener } from './telemetry-listener.js';
import { VERSION } from './version.js';

/** What must be torn down after the collector stops. */
interface Demo {
  readonly server: EmbeddedServer;
  readonly workload: DemoWorkload;
}

/** `pgquerylens [run]`: returns the exit code. */
export async function runCommand(flags: CliFlags, env: NodeJS.ProcessEnv): Promise<number> {
  let config = loadCliConfig(flags, env);
  if (config === undefined) {
    return EXIT_USAGE;
  }
  // With a datastore, targets may all come from its connections table.
  const wantsDemo = config.noTargetConfigured && config.datastore?.url === undefined;
  if (wantsDemo && (configPathOf(flags, env) !== undefined || config.mode === 'nri')) {
    process.stderr.write(
      `${agentErrorPrefix(process.argv, env)}` +
        'config error: targets: no target configured (set targets in the file, --target, ' +
        'PGQUERYLENS_TARGETS or PGHOST)\n',
    );
    return EXIT_USAGE;
  }
  // A newcomer watching `npm start` reads text; machines get JSON unless asked otherwise.
  const textByDefault =
    wantsDemo && flags.logFormat === undefined && env.PGQUERYLENS_LOG_FORMAT === undefined;
  const logger = createLogger({
    level: config.log.level,
    format: textByDefault ? 'text' : config.log.format,
    bindings: { mode: config.mode, version: VERSION },
  });
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection (a bug); exiting', { err: errorMessage(reason) });
    process.exit(EXIT_RUNTIME_FAILURE);
  });

  const stop = new StopSignal(logger);
  try {
    let demo: Demo | undefined;
    if (wantsDemo) {
      const started = await startDemo(flags, env, logger);
      if (started === undefined) {
        return EXIT_RUNTIME_FAILURE;
      }
      ({ config, demo } = started);
      if (stop.isRequested) {
        await stopDemo(demo);
        return EXIT_OK;
      }
    }

    config = withNriCadence(config);
    config = ownShare(config, logger);
    const sharding = config.sharding;
    // Rates and collector state between NRI runs; undefined when the directory is not safe.
    const stateDir =
      config.mode === 'nri' || config.mode === 'hybrid'
        ? prepareStateDirectory(config.nri.stateDir, logger)
        : undefined;
    let built: BuiltAdapters;
    try {
      built = await buildAdapters(config, logger, stateDir);
    } catch (err) {
      if (err instanceof ConfigError) {
        for (const issue of err.issues)
          process.stderr.write(
            `${agentErrorPrefix(process.argv, env)}config error: ${redact(formatConfigIssue(issue))}\n`,
          );
        await stopDemo(demo);
        return EXIT_USAGE;
      }
      logger.error('could not set up the exporters', { err: errorMessage(err) });
      await stopDemo(demo);
      return EXIT_RUNTIME_FAILURE;
    }
    // Under the agent each run is a fresh process: the sampler takes a quick burst of ticks,
    // at the burst's spacing, instead of running on its own timer.
    const nriOneShot = config.mode === 'nri' && !config.nri.daemon && flags.once !== true;
    const queryPerformance = nriOneShot
      ? new QueryPerformanceState(
          {
            ...config.queryPerformance,
            ash: { ...config.queryPerformance.ash, intervalMs: config.nri.burst.intervalMs },
          },
          undefined,
          false,
        )
      : new QueryPerformanceState(config.queryPerformance);
    // Custom queries on another database open connections with their target's credentials.
    const connectors = new TargetConnectors();
    const runs = new RunTelemetry();
    let selfMeter: SelfMeter | undefined;
    const app = new CollectorApp({
      onBatch: (batch) => {
        // A run in flight when its target was removed still finishes: not counted again.
        if (!app.targetNames.includes(batch.target.name)) return;
        runs.record(batch);
        selfMeter?.sync();
      },
      onTargetRemoved: (name) => {
        runs.forget(name);
        selfMeter?.sync();
      },
      config,
      registry: builtinCollectors(queryPerformance, {
        settings: config.customQueries,
        connectors: connectors.lookup,
      }),
      services: [queryPerformance],
      adapters: built.adapters,
      connect: connectors.track((target) =>
        target.kind === 'pgbouncer'
          ? new PgBouncerConnector(target, logger)
          : new PgTargetConnector(target, logger),
      ),
      logger,
      version: VERSION,
    });

    const selfTelemetry = new SelfTelemetry({
      runs,
      adapters: built.adapters,
      exportStats: () => app.exportManager.stats(),
      schedulerStats: () => app.stats().scheduler,
      targets: () => app.targetNames,
      collecting: () => app.collectingTargetNames,
      sharding,
    });
    const oneShot = flags.once === true || nriOneShot;
    const otlpPush = (config.mode === 'otel' || config.mode === 'hybrid') && config.otlp.enabled;
    if (otlpPush && config.otlp.selfMetrics && !oneShot) {
      const { SelfMeter } = await import('../adapters/otlp/self-meter.js');
      selfMeter = new SelfMeter(config.otlp, selfTelemetry, VERSION);
    }
    const listener =
      (config.telemetry.enabled ?? !oneShot)
        ? await startTelemetryListener(config.telemetry, selfTelemetry, built, logger)
        : undefined;

    const sync =
      built.datastorePool === undefined
        ? undefined
        : new DatastoreTargetSync({
            pool: built.datastorePool,
            config,
            app,
            logger,
            owns: (name) => ownsTarget(name, sharding.shard, sharding.shards),
          });
    if (sync !== undefined) {
      try {
        // Bounded: a datastore that does not answer must not hold back the file's targets.
        await withTimeout('reading stored connections', 15_000, () => sync.refresh());
      } catch (err) {
        logger.warn('could not read connections from the datastore yet; retrying', {
          err: redact(errorMessage(err)),
        });
      }
      if (flags.once !== true && !nriOneShot) sync.start(config.datastore?.refresh ?? 120_000);
    }
    let code: number = EXIT_OK;
    if (oneShot && app.targetNames.length === 0) {
      logger.error('nothing to collect: no configured target and none stored in the datastore');
      code = EXIT_RUNTIME_FAILURE;
    } else if (oneShot) {
      // Kept longer than the rates' CACHE_TTL: a statement baseline of any age still gives
      // true deltas, and an agent interval past 6 minutes must not make every run a first one.
      const state =
        stateDir === undefined
          ? undefined
          : new OneShotStateStore(
              stateDir,
              Math.max(config.nri.stateTtlMs, 3 * config.intervalMs),
              logger,
              targetStateKey(config),
            );
      const run = nriOneShot
        ? app.runOnceAttached({
            burstSamples: config.nri.burst.samples,
            loadState: (target) =>
              state?.acquire(target) === true ? state.load(target) : undefined,
            saveState: (target, saved) => {
              if (state?.holds(target) === true) state.save(target, saved);
              state?.release(target);
            },
          })
        : app.runOnce();
      const result = await Promise.race([run, stop.requested.then(() => undefined)]);
      if (result !== undefined) {
        logger.info('run complete', { ...result, maxRssMb: maxRssMb() });
        if (result.batches > 0 && result.unreachable === result.batches)
          code = EXIT_RUNTIME_FAILURE;
      }
    } else {
      app.start();
      await stop.requested;
    }
    selfTelemetry.markStopping();
    try {
      await sync?.stop();
      // Side by side: the self-metrics' last export must not stretch the shutdown deadline.
      await Promise.all([app.stop(), selfMeter?.shutdown()]);
      await listener?.close();
      await built.close();
      await stopDemo(demo);
    } catch (err) {
      logger.error('shutdown failed', { err: errorMessage(err) });
      return EXIT_RUNTIME_FAILURE;
    }
    const stats = app.stats();
    logger.info('stopped', {
      maxRssMb: maxRssMb(),
      export: stats.export,
      ...historyStats(built.adapters),
      ...(stats.scheduler === undefined
        ? {}
        : { runs: stats.scheduler.runs, skippedRuns: stats.scheduler.skipped }),
    });
    return code;
  } finally {
    stop.dispose();
  }
}

/**
 * Keeps the configured targets this replica owns (rendezvous hashing of the names over the
 * replicas), and says which share it took.
 */
function ownShare(config: ResolvedConfig, logger: Logger): ResolvedConfig {
  const { shard, shards } = config.sharding;
  if (shards <= 1) return config;
  const targets = config.targets.filter((t) => ownsTarget(t.name, shard, shards));
  logger.info('collecting this replica’s share of the targets', {
    shard,
    shards,
    targets: targets.length,
    configured: config.targets.length,
  });
  return { ...config, targets };
}

/** Starts the embedded server and workload and points the configuration at them. */
async function startDemo(
  flags: CliFlags,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<{ config: ResolvedConfig; demo: Demo } | undefined> {
  logger.info(
    'no target configured: starting an embedded PostgreSQL with a demo workload (Ctrl-C stops and removes it)',
  );
  let server: EmbeddedServer;
  try {
    server = await EmbeddedServer.start({ logger });
  } catch (err) {
    logger.error('could not start the embedded PostgreSQL', { err: errorMessage(err) });
    return undefined;
  }
  const workload = new DemoWorkload(server.url(), logger);
  try {
    await workload.start();
  } catch (err) {
    logger.error('could not start the demo workload', { err: errorMessage(err) });
    await workload.stop().catch(() => undefined);
    await server.stop();
    return undefined;
  }
  // Same precedence as always; the embedded server and a faster, human-readable cycle are only
  // defaults, so the user's flags and environment still win.
  // No OTLP push unless an endpoint was given: nothing listens on localhost:4317 on a fresh
  // machine. /metrics serves the PostgreSQL metrics instead, so there is something to look at.
  const otlpConfigured = Object.keys(env).some(
    (name) => /^OTEL_EXPORTER_OTLP_(METRICS_|LOGS_)?ENDPOINT$/.test(name) && env[name] !== '',
  );
  const config = loadCliConfig(flags, env, {
    interval: '10s',
    output: { format: 'summary' },
    targets: [{ name: 'embedded', url: server.url() }],
    otlp: { enabled: otlpConfigured },
    telemetry: { prometheus: true },
  });
  if (config === undefined) {
    await workload.stop();
    await server.stop();
    return undefined;
  }
  return { config, demo: { server, workload } };
}

async function stopDemo(demo: Demo | undefined): Promise<void> {
  if (demo === undefined) return;
  await demo.workload.stop();
  await demo.server.stop();
}

/** Peak resident memory of this process so far, MB; logged so operators can size limits. */
function maxRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

/** The datastore's own counters: its export() only buffers, so the lanes cannot see writes. */
function historyStats(adapters: readonly ExportAdapter[]): Record<string, unknown> {
  const history = adapters.find((a): a is DatastoreAdapter => a instanceof DatastoreAdapter);
  return history === undefined ? {} : { datastore: history.stats };
}
