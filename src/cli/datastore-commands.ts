import type pg from 'pg';
import { collectGarbage } from '../adapters/datastore/garbage-collector.js';
import { prepareDatastore } from '../adapters/datastore/prepare-datastore.js';
import { builtinProbeSchemas } from '../collectors/builtin-collectors.js';
import type { ResolvedConfig } from '../core/config/resolved-config.js';
import { ConfigError, errorMessage, formatConfigIssue } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { CliFlags } from './cli-flags.js';
import { EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_USAGE } from './exit-codes.js';
import { loadCliConfig } from './load-cli-config.js';
import { createLogger } from './logger.js';
import { openDatastore } from './open-datastore.js';

/** `pgquerylens migrate`: applies pending migrations and creates probe tables. */
export function migrateCommand(flags: CliFlags, env: NodeJS.ProcessEnv): Promise<number> {
  return withDatastore(flags, env, async (pool) => {
    const result = await prepareDatastore(pool, builtinProbeSchemas());
    process.stdout.write(
      result.applied.length === 0
        ? `datastore schema is current (version ${result.to})\n`
        : `datastore migrated from version ${result.from} to ${result.to} (applied ${result.applied.join(', ')})\n`,
    );
  });
}

/** `pgquerylens gc`: drops expired partitions now, as the daemon does daily. */
export function gcCommand(flags: CliFlags, env: NodeJS.ProcessEnv): Promise<number> {
  return withDatastore(flags, env, async (pool, config) => {
    await prepareDatastore(pool, builtinProbeSchemas());
    const result = await collectGarbage(pool, {
      schemas: builtinProbeSchemas(),
      configuredRetentionDays: (probe) => config.collectors[probe]?.retentionDays,
    });
    for (const name of result.dropped) process.stdout.write(`dropped metrics.${name}\n`);
    process.stdout.write(
      `${result.dropped.length} partition(s) dropped, ${result.protected.length} kept as latest snapshots\n`,
    );
  });
}

async function withDatastore(
  flags: CliFlags,
  env: NodeJS.ProcessEnv,
  work: (pool: pg.Pool, config: ResolvedConfig) => Promise<void>,
): Promise<number> {
  const config = loadCliConfig(flags, env);
  if (config === undefined) return EXIT_USAGE;
  if (config.datastore?.url === undefined) {
    process.stderr.write(
      'config error: datastore.url: not set (a postgres:// URL, or "embedded"; env PGQUERYLENS_DATASTORE_URL)\n',
    );
    return EXIT_USAGE;
  }
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  let opened;
  try {
    opened = await openDatastore(config.datastore, logger, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) {
        process.stderr.write(`config error: ${redact(formatConfigIssue(issue))}\n`);
      }
      return EXIT_USAGE;
    }
    process.stderr.write(`pgquerylens: ${redact(errorMessage(err))}\n`);
    return EXIT_RUNTIME_FAILURE;
  }
  try {
    await work(opened.pool, config);
    return EXIT_OK;
  } catch (err) {
    process.stderr.write(`pgquerylens: datastore: ${redact(errorMessage(err))}\n`);
    return EXIT_RUNTIME_FAILURE;
  } finally {
    await opened.pool.end().catch(() => undefined);
    await opened.close();
  }
}
