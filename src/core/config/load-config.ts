import { closestName } from './closest-name.js';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { registerSecret } from '../redact.js';
import { configSchema, type ParsedConfig, type RawConfig } from './config-schema.js';
import { DEFAULT_PASSWORD_ENV, envOverrides, fsReason, readEnvOrFile } from './env-overrides.js';
import { deepMerge } from './merge.js';
import type { ResolvedConfig } from './resolved-config.js';
import { resolveCustomQueries } from './custom-query-settings.js';
import { nriLayers } from './nri-layers.js';
import { resolveNri } from './nri-settings.js';
import { resolveOtlp } from './otlp-settings.js';
import { resolveOtlpLogs } from './otlp-logs-settings.js';
import { resolveTelemetry } from './telemetry-settings.js';
import { resolveSharding } from './sharding-settings.js';
import { resolveQueryPerformance } from './query-performance-settings.js';
import { pgEnvTarget, resolveTargets } from './resolve-targets.js';
import { formatPath, zodIssuesToConfigIssues } from './zod-issues.js';
import { yamlErrorText } from './yaml-error-text.js';

export interface LoadConfigInput {
  /** Defaults chosen by the caller, below everything the user wrote. */
  readonly defaults?: RawConfig;
  /** YAML file, lowest precedence of what the user writes. */
  readonly configPath?: string;
  /** Environment (PGQUERYLENS_*, PG*), middle precedence. */
  readonly env: NodeJS.ProcessEnv;
  /** Raw-config fragment from command-line flags, highest precedence. */
  readonly flags?: RawConfig;
  /** Names of registered collectors, to reject typos under `collectors:`. */
  readonly knownCollectors: readonly string[];
  /**
   * The query-performance collectors nri-postgresql's ENABLE_QUERY_MONITORING switches (the
   * names live with the collectors, which the core may not import). Without it the variable
   * switches nothing.
   */
  readonly queryMonitoringCollectors?: readonly string[];
  readonly readFile?: (path: string) => string;
}

const readUtf8 = (path: string): string => readFileSync(path, 'utf8');

/**
 * File, then environment, then flags, merged and validated. In `nri` and `hybrid` modes the
 * agent's and nri-postgresql's variables add layers around the file (see nri-layers.ts). Throws
 * ConfigError listing every problem with its key path (or variable); never returns a
 * half-valid configuration.
 */
export function loadConfig(input: LoadConfigInput): ResolvedConfig {
  const readFile = input.readFile ?? readUtf8;
  const issues: ConfigIssue[] = [];
  const fileLayer =
    input.configPath === undefined ? {} : readYaml(input.configPath, readFile, issues);
  const envLayer = envOverrides(input.env, readFile, issues);
  const defaultPassword = readEnvOrFile(input.env, DEFAULT_PASSWORD_ENV, readFile, issues);
  registerSecret(defaultPassword);
  if (issues.length > 0) {
    throw new ConfigError(issues);
  }

  const defaults = input.defaults ?? {};
  const flags = input.flags ?? {};
  // Not thrown yet: reported with the schema's problems, so a broken agent config shows all.
  const nri = nriLayers({
    env: input.env,
    readFile,
    issues,
    merged: deepMerge(defaults, fileLayer, envLayer, flags),
    knownCollectors: input.knownCollectors,
    queryMonitoringCollectors: input.queryMonitoringCollectors ?? [],
  });

  const merged = deepMerge(defaults, nri.belowFile, fileLayer, nri.aboveFile, envLayer, flags);
  const parsed = configSchema.safeParse(merged, { reportInput: true });
  // Checked on the raw input too, so a typo in a collector name is reported with the rest.
  const collectors = merged.collectors;
  if (collectors !== null && typeof collectors === 'object' && !Array.isArray(collectors)) {
    for (const name of Object.keys(collectors)) {
      if (!input.knownCollectors.includes(name)) {
        issues.push({
          path: formatPath(['collectors', name]),
          message: unknownCollectorMessage(name, input.knownCollectors),
        });
      }
    }
  }
  if (!parsed.success) {
    throw new ConfigError([...zodIssuesToConfigIssues(parsed.error), ...issues]);
  }
  const config: ParsedConfig = parsed.data;

  let targetsInput = config.targets;
  let targetPathPrefix = 'targets';
  if (targetsInput.length === 0) {
    const fromPg = pgEnvTarget(input.env);
    if (fromPg !== undefined) {
      targetsInput = [fromPg];
      targetPathPrefix = 'PG* environment';
    }
  }
  const targets = resolveTargets(targetsInput, config.connection, {
    env: input.env,
    readFile,
    defaultPassword,
    issues,
    pathPrefix: targetPathPrefix,
  });
  // OTEL_* variables of the environment are judged only where OTLP is used: an NRI host may
  // carry ones meant for something else (a certificate path from another container).
  const otlpIssues: ConfigIssue[] = [];
  const otlp = resolveOtlp(config.otlp, input.env, config.interval, otlpIssues);
  const otlpLogs = resolveOtlpLogs(config.otlp, otlp, input.env, otlpIssues);
  if (config.mode !== 'nri' && otlp.enabled) issues.push(...otlpIssues);
  const sharding = resolveSharding(config.sharding, input.env, issues);
  if (config.datastore?.url !== undefined) {
    registerSecret(passwordOfUrl(config.datastore.url));
  }
  if (issues.length > 0) {
    throw new ConfigError(issues);
  }

  return Object.freeze({
    mode: config.mode,
    intervalMs: config.interval,
    targets,
    noTargetConfigured: targets.length === 0,
    connection: config.connection,
    collectors: Object.fromEntries(
      Object.entries(config.collectors).map(([name, c]) => [
        name,
        {
          ...(c.enabled === undefined ? {} : { enabled: c.enabled }),
          ...(c.interval === undefined ? {} : { intervalMs: c.interval }),
          ...(c.statementTimeout === undefined ? {} : { statementTimeoutMs: c.statementTimeout }),
          ...(c.timeout === undefined ? {} : { timeoutMs: c.timeout }),
          ...(c.retention === undefined
            ? {}
            : { retentionDays: Math.ceil(c.retention / 86_400_000) }),
        },
      ]),
    ),
    queryPerformance: resolveQueryPerformance(config.queryPerformance),
    nri: resolveNri(config.nri),
    otlp,
    otlpLogs,
    telemetry: resolveTelemetry(config.telemetry),
    sharding,
    customQueries: resolveCustomQueries(config.customQueries),
    ...(config.output === undefined ? {} : { output: config.output }),
    export: {
      timeoutMs: config.export.timeout,
      ...(config.export.queueSize === undefined ? {} : { queueSize: config.export.queueSize }),
      maxRetries: config.export.maxRetries,
      retryInitialMs: config.export.retryInitial,
      retryMaxMs: config.export.retryMax,
    },
    ...(config.datastore === undefined ? {} : { datastore: config.datastore }),
    log: config.log,
    shutdownTimeoutMs: config.shutdownTimeout,
  });
}

function readYaml(path: string, readFile: (p: string) => string, issues: ConfigIssue[]): RawConfig {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    issues.push({ path: '', message: `cannot read config file ${path}: ${fsReason(err)}` });
    return {};
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0];
      const where = pos === undefined ? '' : ` at line ${pos.line}, column ${pos.col}`;
      issues.push({ path: '', message: `${path}${where}: ${yamlErrorText(err.message)}` });
    }
    return {};
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // yaml refuses alias expansions that would blow up (a "billion laughs" file).
    issues.push({
      path: '',
      message: `${path}: ${err instanceof Error ? err.message : String(err)}`,
    });
    return {};
  }
  if (value === null || value === undefined) {
    return {};
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ path: '', message: `${path}: the top level must be a mapping of keys` });
    return {};
  }
  return value as RawConfig;
}

function passwordOfUrl(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

function unknownCollectorMessage(name: string, known: readonly string[]): string {
  const guess = closestName(name, known);
  return guess === undefined
    ? 'unknown collector (`pgquerylens collectors` lists them)'
    : `unknown collector (did you mean ${guess}?)`;
}
