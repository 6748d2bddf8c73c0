import type { ConfigIssue } from '../errors.js';
import type { RawConfig } from './config-schema.js';
import { setPath } from './merge.js';
import { NriEnvValues } from './nri-env-values.js';
import { parseGoDurationMs } from './nri-go-duration.js';

/**
 * What the New Relic infrastructure agent tells an integration through its environment
 * (TEMP_DIR, NRI_CONFIG_INTERVAL, VERBOSE, plus the SDK's CACHE_TTL), and the defaults of the
 * `nri` and `hybrid` modes: `warn` so a healthy run leaves stderr empty, in the agent's
 * `[LEVEL] message` format. Meant to sit below everything the user set.
 */
export function nriAgentLayer(env: NodeJS.ProcessEnv, issues: ConfigIssue[]): RawConfig {
  const values = new NriEnvValues(env, issues);
  const out: RawConfig = { log: { level: 'warn', format: 'agent' } };

  const tempDir = values.text('TEMP_DIR');
  if (tempDir !== undefined) setPath(out, ['nri', 'stateDir'], tempDir);

  const interval = goDuration(values, 'NRI_CONFIG_INTERVAL');
  // `0` is the agent's "run once": there is no cadence to follow then.
  if (interval !== undefined && interval > 0) setPath(out, ['interval'], `${interval}ms`);

  if (values.bool('VERBOSE') === true) setPath(out, ['log', 'level'], 'debug');

  const ttl = goDuration(values, 'CACHE_TTL');
  if (ttl === 0) values.report('CACHE_TTL', 'must be greater than 0');
  else if (ttl !== undefined) setPath(out, ['nri', 'stateTtl'], `${ttl}ms`);
  return out;
}

function goDuration(values: NriEnvValues, name: string): number | undefined {
  const raw = values.text(name);
  if (raw === undefined) return undefined;
  const ms = parseGoDurationMs(raw.trim());
  if (ms === undefined) {
    values.report(name, `expected a duration such as 30s, 1m or 1h30m, got ${JSON.stringify(raw)}`);
  }
  return ms;
}
