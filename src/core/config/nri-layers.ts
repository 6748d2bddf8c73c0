import type { ConfigIssue } from '../errors.js';
import { redact } from '../redact.js';
import type { RawConfig } from './config-schema.js';
import type { ReadTextFile } from './env-overrides.js';
import { deepMerge } from './merge.js';
import { nriAgentLayer } from './nri-agent-env.js';
import { nriPostgresqlLayers } from './nri-postgresql-env.js';
import { pgEnvTarget } from './resolve-targets.js';

export interface NriLayersInput {
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: ReadTextFile;
  readonly issues: ConfigIssue[];
  /** Caller defaults, file, environment and flags merged: the mode and targets come from it. */
  readonly merged: RawConfig;
  readonly knownCollectors: readonly string[];
  readonly queryMonitoringCollectors: readonly string[];
}

/** Where the NRI layers go among the others. */
export interface NriLayers {
  /** Above caller defaults, below the file: mode defaults and unset nri-postgresql variables. */
  readonly belowFile: RawConfig;
  /** Above the file, below PGQUERYLENS_* and flags: the nri-postgresql variables that are set. */
  readonly aboveFile: RawConfig;
}

const NONE: NriLayers = { belowFile: {}, aboveFile: {} };

/**
 * In `nri` and `hybrid` modes, the agent's variables and mode defaults; and, when no target is
 * configured any other way, the configuration nri-postgresql's variables describe (drop-in).
 */
export function nriLayers(input: NriLayersInput): NriLayers {
  const { merged, env } = input;
  if (merged.mode !== 'nri' && merged.mode !== 'hybrid') return NONE;
  const first = input.issues.length;
  const agent = nriAgentLayer(env, input.issues);
  let layers: NriLayers = { belowFile: agent, aboveFile: {} };
  if (isDropIn(merged, env)) {
    const pg = nriPostgresqlLayers(input);
    layers = { belowFile: deepMerge(agent, pg.defaults), aboveFile: pg.explicit };
  }
  // Messages quote the values they reject; a password pasted into the wrong variable (PORT)
  // must not come back out. The password is registered by now, whatever the reading order.
  for (let i = first; i < input.issues.length; i++) {
    const issue = input.issues[i];
    if (issue !== undefined) input.issues[i] = { ...issue, message: redact(issue.message) };
  }
  return layers;
}

/**
 * Drop-in when nothing else names a target. In `hybrid` mode, or with a datastore (whose stored
 * connections may be the targets), only when both credentials are given: otherwise the user did not
 * ask for an nri-postgresql target and "must specify a username" would be wrong.
 */
function isDropIn(merged: RawConfig, env: NodeJS.ProcessEnv): boolean {
  const targets = merged.targets;
  if (Array.isArray(targets) && targets.length > 0) return false;
  if (pgEnvTarget(env) !== undefined) return false;
  const datastore = merged.datastore;
  const hasDatastore =
    datastore !== null &&
    typeof datastore === 'object' &&
    (datastore as Record<string, unknown>).url !== undefined;
  if (merged.mode === 'nri' && !hasDatastore) return true;
  // Both: a desktop session's USERNAME alone (Windows, some Linux desktops) is no request.
  const set = (name: string): boolean => env[name] !== undefined && env[name] !== '';
  return set('USERNAME') && (set('PASSWORD') || set('PASSWORD_FILE'));
}
