import { readFileSync } from 'node:fs';
import type pg from 'pg';
import {
  monitoredConnections,
  type MonitoredConnection,
} from '../adapters/datastore/connections-store.js';
import { migrate } from '../adapters/datastore/migrate.js';
import { decryptPassword, readServerSecret } from '../adapters/datastore/password-crypto.js';
import { probeConfigs, type ProbeConfigRow } from '../adapters/datastore/probe-configs-store.js';
import type { ParsedTarget } from '../core/config/config-schema.js';
import type { ResolvedConfig, ResolvedTarget } from '../core/config/resolved-config.js';
import { resolveTargets } from '../core/config/resolve-targets.js';
import { errorMessage, formatConfigIssue, type ConfigIssue } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { redact } from '../core/redact.js';
import { settlesWithin } from '../core/timeout.js';
import type { CollectorApp, ProbeOverride, ProbeOverrides } from './collector-app.js';

export interface DatastoreTargetSyncOptions {
  readonly pool: pg.Pool;
  readonly config: ResolvedConfig;
  readonly app: CollectorApp;
  readonly logger: Logger;
  /** Whether this replica collects a connection (sharding); every one when absent. */
  readonly owns?: (name: string) => boolean;
}

/**
 * Keeps the collector's targets and probe settings in step with the datastore: servers in
 * `connections` (managed there, monitored and enabled) are collected besides the configuration
 * file's targets, and `probe_configs` overrides enablement and interval, global then per
 * connection. Re-read every `datastore.refresh`, so changes apply without a restart.
 */
export class DatastoreTargetSync {
  readonly #opts: DatastoreTargetSyncOptions;
  readonly #managed = new Set<string>();
  readonly #warned = new Set<string>();
  readonly #decrypted = new Map<string, string>();
  #secret: string | undefined;
  #migrated = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  refreshes = 0;
  failures = 0;

  constructor(options: DatastoreTargetSyncOptions) {
    this.#opts = options;
  }

  /**
   * Reads both tables and applies them; throws when the datastore cannot be read. A refresh
   * already running is joined, never doubled.
   */
  refresh(): Promise<void> {
    this.#running ??= this.#refresh().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #refresh(): Promise<void> {
    const { pool, app, config, logger } = this.#opts;
    if (!this.#migrated) {
      await migrate(pool);
      this.#migrated = true;
    }
    const rows = await monitoredConnections(pool);
    const overrides = await probeConfigs(pool);
    const fromFile = new Set(config.targets.map((t) => t.name));
    const wanted = new Map<string, ResolvedTarget>();
    for (const row of rows) {
      // Another replica's share: not even decrypted here.
      if (this.#opts.owns?.(row.name) === false) continue;
      if (fromFile.has(row.name)) {
        this.#warnOnce(
          `dup:${row.name}`,
          'a stored connection has the name of a configured target; the configuration file wins',
          { connection: row.name },
        );
        continue;
      }
      const target = await this.#resolve(row);
      if (target !== undefined) wanted.set(row.name, target);
    }
    for (const name of [...this.#managed]) {
      if (!wanted.has(name)) {
        await app.removeTarget(name);
        this.#managed.delete(name);
        logger.info('stopped monitoring a stored connection', { target: name });
      }
    }
    for (const target of wanted.values()) {
      const isNew = !this.#managed.has(target.name);
      if (await app.upsertTarget(target)) {
        this.#managed.add(target.name);
        logger.info(
          isNew ? 'monitoring a stored connection' : 'stored connection changed; reconnecting',
          {
            target: target.name,
          },
        );
      }
    }
    app.setProbeOverrides(overridesFrom(overrides));
    this.refreshes++;
  }

  /** Refreshes every `everyMs`; a refresh still running when the next is due is skipped. */
  start(everyMs: number): void {
    this.#timer = setInterval(() => {
      if (this.#running !== undefined) return;
      this.refresh().catch((err: unknown) => {
        this.failures++;
        this.#opts.logger.warn(
          'could not read connections from the datastore; keeping the current targets',
          { err: redact(errorMessage(err)) },
        );
      });
    }, everyMs);
    this.#timer.unref();
  }

  /** Stops refreshing; a refresh in flight gets `deadlineMs` to finish, then is left behind. */
  async stop(deadlineMs = 5_000): Promise<void> {
    clearInterval(this.#timer);
    if (this.#running !== undefined) await settlesWithin(this.#running, deadlineMs);
  }

  async #resolve(row: MonitoredConnection): Promise<ResolvedTarget | undefined> {
    let password: string | undefined;
    if (row.passwordEncrypted !== null) {
      const secret = await this.#serverSecret(row.name);
      if (secret === undefined) return undefined;
      try {
        // PBKDF2 with 100,000 iterations per password: derived once per stored value, not per
        // refresh, or a large fleet would spend seconds of CPU every few minutes.
        password =
          this.#decrypted.get(row.passwordEncrypted) ??
          (await decryptPassword(row.passwordEncrypted, secret));
        this.#decrypted.set(row.passwordEncrypted, password);
      } catch (err) {
        this.#warnOnce(
          `decrypt:${row.name}:${row.updatedAt.getTime()}`,
          'cannot decrypt a stored password; connection skipped',
          {
            connection: row.name,
            err: errorMessage(err),
          },
        );
        return undefined;
      }
    }
    const parsed: ParsedTarget = {
      name: row.name,
      host: row.host,
      port: row.port,
      database: row.databaseName,
      ...(row.username === null ? {} : { user: row.username }),
      ...(password === undefined ? {} : { password }),
      ...(row.sslmode === null
        ? {}
        : { sslmode: row.sslmode as NonNullable<ParsedTarget['sslmode']> }),
      ...(row.sslrootcert === null ? {} : { sslrootcert: row.sslrootcert }),
      ...(row.sslcert === null ? {} : { sslcert: row.sslcert }),
      ...(row.sslkey === null ? {} : { sslkey: row.sslkey }),
      labels: row.labels,
    };
    const issues: ConfigIssue[] = [];
    const [target] = resolveTargets([parsed], this.#opts.config.connection, {
      env: {},
      readFile: (file) => readFileSync(file, 'utf8'),
      defaultPassword: undefined,
      issues,
      pathPrefix: `connections[${row.name}]`,
    });
    if (issues.length > 0 || target === undefined) {
      this.#warnOnce(
        `invalid:${row.name}:${row.updatedAt.getTime()}`,
        'stored connection is invalid; skipped',
        {
          connection: row.name,
          problems: issues.map(formatConfigIssue),
        },
      );
      return undefined;
    }
    return target;
  }

  async #serverSecret(connection: string): Promise<string | undefined> {
    if (this.#secret !== undefined) return this.#secret;
    const file = this.#opts.config.datastore?.secretFile;
    if (file === undefined) {
      this.#warnOnce(
        'no-secret',
        'a stored connection has a password but datastore.secretFile is not set; such connections are skipped',
        { connection },
      );
      return undefined;
    }
    try {
      this.#secret = await readServerSecret(file);
      return this.#secret;
    } catch (err) {
      this.#warnOnce(
        'secret-unreadable',
        'cannot read datastore.secretFile; connections with passwords are skipped',
        {
          err: errorMessage(err),
        },
      );
      return undefined;
    }
  }

  #warnOnce(key: string, message: string, fields: Record<string, unknown>): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#opts.logger.warn(message, fields);
  }
}

/** probe_configs as a lookup: a connection's own row over the global row, field by field. */
export function overridesFrom(rows: readonly ProbeConfigRow[]): ProbeOverrides {
  const global = new Map<string, ProbeOverride>();
  const perConnection = new Map<string, ProbeOverride>();
  for (const row of rows) {
    const value = {
      ...(row.enabled === undefined ? {} : { enabled: row.enabled }),
      ...(row.intervalMs === undefined ? {} : { intervalMs: row.intervalMs }),
    };
    if (row.connection === undefined) global.set(row.probe, value);
    else perConnection.set(`${row.connection}\u0000${row.probe}`, value);
  }
  return (target, probe) => {
    const own = perConnection.get(`${target}\u0000${probe}`);
    const all = global.get(probe);
    return own === undefined && all === undefined ? undefined : { ...all, ...own };
  };
}
