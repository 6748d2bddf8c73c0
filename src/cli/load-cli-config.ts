import { loadConfig } from '../core/config/load-config.js';
import type { ResolvedConfig } from '../core/config/resolved-config.js';
import { ConfigError, formatConfigIssue } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { builtinCollectorNames } from '../collectors/builtin-collectors.js';
import { ASH_CONSUMERS } from '../collectors/query-performance-names.js';
import type { RawConfig } from '../core/config/config-schema.js';
import { agentErrorPrefix } from './agent-prefix.js';
import { flagsToRawConfig, type CliFlags } from './cli-flags.js';

/** The config file named by the flag or PGQUERYLENS_CONFIG. */
export function configPathOf(flags: CliFlags, env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env.PGQUERYLENS_CONFIG;
  return flags.config ?? (fromEnv === undefined || fromEnv === '' ? undefined : fromEnv);
}

/**
 * Loads the configuration, or prints each problem on its own line and returns undefined.
 * `defaults` sit below everything the user wrote (the embedded demo's friendlier defaults).
 */
export function loadCliConfig(
  flags: CliFlags,
  env: NodeJS.ProcessEnv,
  defaults?: RawConfig,
): ResolvedConfig | undefined {
  try {
    const configPath = configPathOf(flags, env);
    return loadConfig({
      ...(defaults === undefined ? {} : { defaults }),
      ...(configPath === undefined ? {} : { configPath }),
      env,
      flags: flagsToRawConfig(flags),
      knownCollectors: builtinCollectorNames(),
      queryMonitoringCollectors: ASH_CONSUMERS,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) {
        process.stderr.write(
          `${agentErrorPrefix(process.argv, env)}config error: ${redact(formatConfigIssue(issue))}\n`,
        );
      }
      return undefined;
    }
    throw err;
  }
}
