import { formatDurationMs } from '../core/duration.js';
import { redactValue } from '../core/redact.js';
import { stringify } from 'yaml';
import type { CliFlags } from './cli-flags.js';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { loadCliConfig } from './load-cli-config.js';

/** `pgquerylens validate`: 0 and the effective configuration (secrets masked), or 2. */
export function validateCommand(flags: CliFlags, env: NodeJS.ProcessEnv): number {
  const config = loadCliConfig(flags, env);
  if (config === undefined) {
    return EXIT_USAGE;
  }
  const shown = {
    mode: config.mode,
    interval: formatDurationMs(config.intervalMs),
    targets: config.targets.map((t) => ({
      name: t.name,
      host: t.host,
      port: t.port,
      user: t.user,
      password: t.password === undefined ? undefined : 'set',
      database: t.database,
      sslmode: t.ssl.mode,
      databases: t.databases,
      excludeDatabases: t.excludeDatabases,
      labels: t.labels,
    })),
    collectors: config.collectors,
    output: config.output,
  };
  process.stdout.write(`configuration is valid\n${stringify(redactValue(shown))}`);
  return EXIT_OK;
}
