import { userInfo } from 'node:os';
import type pg from 'pg';
import type { Argv, CommandModule } from 'yargs';
import {
  addConnection,
  DuplicateConnectionError,
  listConnections,
  removeConnection,
  type ConnectionSummary,
  type NewConnection,
} from '../adapters/datastore/connections-store.js';
import { migrate } from '../adapters/datastore/migrate.js';
import { encryptPassword } from '../adapters/datastore/password-crypto.js';
import { SSL_MODES } from '../core/config/modes.js';
import type { ResolvedConfig, ResolvedDatastore } from '../core/config/resolved-config.js';
import { ConfigError, errorMessage, formatConfigIssue } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { redact } from '../core/redact.js';
import type { CliFlags } from './cli-flags.js';
import {
  adminLogger,
  loadSecret,
  processIo,
  readPasswordFromStdin,
  reportUsage,
  SECRET_FILE_OPTION,
  secretFileOf,
  UsageError,
  type CommandIo,
  type CommandModuleOptions,
  type SecretFileFlags,
} from './encrypt-password-command.js';
import { EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_USAGE } from './exit-codes.js';
import { loadCliConfig } from './load-cli-config.js';
import { openDatastore } from './open-datastore.js';

/** `connections add` flags as yargs parses them (camel-cased). */
export interface ConnectionsAddArgs extends SecretFileFlags {
  readonly name?: string;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly passwordStdin?: boolean;
  readonly sslmode?: string;
  readonly sslrootcert?: string;
  readonly sslcert?: string;
  readonly sslkey?: string;
  readonly owner?: string;
  readonly label?: readonly (string | number)[];
}

export interface ConnectionsListArgs extends CliFlags {
  readonly json?: boolean;
}

export interface ConnectionsRemoveArgs extends CliFlags {
  readonly name?: string;
}

/** Same rule as a configured target's name: the daemon uses it as the target name. */
const NAME_PATTERN = /^[A-Za-z0-9_.:@-]+$/;

/**
 * `pgquerylens connections add`: stores a connection for the daemon to monitor. The password, if
 * any, comes from stdin only (--password-stdin) and is encrypted with the server secret before
 * anything else sees it. 0 when stored; 2 on bad input, a missing secret or a duplicate name;
 * 1 when the datastore fails.
 */
export async function connectionsAddCommand(
  args: ConnectionsAddArgs,
  logger: Logger,
  io: CommandIo = processIo(),
): Promise<number> {
  const config = loadCliConfig(args, io.env);
  if (config === undefined) return EXIT_USAGE;
  let conn: NewConnection;
  try {
    const fields = connectionFields(args, io.env);
    if (args.passwordStdin === true) {
      // Secret first: a missing one is reported before anybody types a password.
      const secret = await loadSecret(secretFileOf(args, io.env, config));
      const password = await readPasswordFromStdin(io, `Password for ${fields.name}: `);
      conn = { ...fields, passwordEncrypted: await encryptPassword(password, secret) };
    } else {
      conn = fields;
    }
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err.message);
    throw err;
  }
  return withDatastore(config, logger, io, async (pool) => {
    try {
      const id = await addConnection(pool, conn);
      logger.debug('connection added', { connection: conn.name, id });
      io.stdout(
        `added connection ${conn.name} (id ${id}, ${conn.passwordEncrypted === undefined ? 'no password' : 'password stored encrypted'})\n`,
      );
      return EXIT_OK;
    } catch (err) {
      if (err instanceof DuplicateConnectionError) {
        return reportUsage(
          io,
          `${err.message}; remove it first (pgquerylens connections remove ${conn.name}) or choose another --name`,
        );
      }
      throw err;
    }
  });
}

/**
 * `pgquerylens connections list [--json]`: every stored connection. Passwords are never printed
 * (not even read); only whether one is stored.
 */
export async function connectionsListCommand(
  args: ConnectionsListArgs,
  logger: Logger,
  io: CommandIo = processIo(),
): Promise<number> {
  const config = loadCliConfig(args, io.env);
  if (config === undefined) return EXIT_USAGE;
  return withDatastore(config, logger, io, async (pool) => {
    const rows = await listConnections(pool);
    io.stdout(args.json === true ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows));
    return EXIT_OK;
  });
}

/**
 * `pgquerylens connections remove NAME`: 0 when removed; 1 when no connection has that name (so
 * a script can tell "already gone" from a mistake); 2 when the name belongs to a collector's
 * configuration file (remove the target there).
 */
export async function connectionsRemoveCommand(
  args: ConnectionsRemoveArgs,
  logger: Logger,
  io: CommandIo = processIo(),
): Promise<number> {
  const name = args.name;
  if (name === undefined || name === '')
    return reportUsage(io, 'connections remove: name a connection');
  const config = loadCliConfig(args, io.env);
  if (config === undefined) return EXIT_USAGE;
  return withDatastore(config, logger, io, async (pool) => {
    const outcome = await removeConnection(pool, name);
    switch (outcome) {
      case 'removed':
        logger.debug('connection removed', { connection: name });
        io.stdout(`removed connection ${name}\n`);
        return EXIT_OK;
      case 'not_found':
        io.stderr(`pgquerylens: no connection named ${name}\n`);
        return EXIT_RUNTIME_FAILURE;
      case 'config_managed':
        return reportUsage(
          io,
          `connection ${name} was registered for a target of a collector's configuration file; ` +
            'remove the target there',
        );
    }
  });
}

/** The row to store, from the flags; a UsageError names the first bad one. */
function connectionFields(args: ConnectionsAddArgs, env: NodeJS.ProcessEnv): NewConnection {
  const name = args.name ?? '';
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError(
      name === ''
        ? 'connections add: --name is required'
        : `--name ${JSON.stringify(name)}: use letters, digits and _ . : @ - only`,
    );
  }
  const host = args.host ?? '';
  if (host.trim() === '' || /\s/.test(host)) {
    throw new UsageError(
      host === '' ? 'connections add: --host is required' : '--host must not contain spaces',
    );
  }
  const port = args.port ?? 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port must be an integer from 1 to 65535, got ${String(args.port)}`);
  }
  const databaseName = args.database ?? 'postgres';
  if (databaseName === '') throw new UsageError('--database must not be empty');
  if (args.user === '') throw new UsageError('--user must not be empty');
  const sslmode = args.sslmode;
  if (sslmode !== undefined && !(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw new UsageError(`--sslmode must be one of ${SSL_MODES.join(', ')}, got ${sslmode}`);
  }
  for (const flag of ['sslrootcert', 'sslcert', 'sslkey'] as const) {
    if (args[flag] === '') throw new UsageError(`--${flag} must not be empty`);
  }
  const ownerUsername = args.owner ?? osUser(env);
  if (ownerUsername === undefined || ownerUsername === '') {
    throw new UsageError('cannot tell the OS user; pass --owner');
  }
  return {
    name,
    host,
    port,
    databaseName,
    ownerUsername,
    labels: parseLabels(args.label ?? []),
    ...(args.user === undefined ? {} : { username: args.user }),
    ...(sslmode === undefined ? {} : { sslmode }),
    ...(args.sslrootcert === undefined ? {} : { sslrootcert: args.sslrootcert }),
    ...(args.sslcert === undefined ? {} : { sslcert: args.sslcert }),
    ...(args.sslkey === undefined ? {} : { sslkey: args.sslkey }),
  };
}

function parseLabels(raw: readonly (string | number)[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of raw.map(String)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label ${JSON.stringify(item)}: expected key=value`);
    const key = item.slice(0, eq);
    if (Object.hasOwn(labels, key)) throw new UsageError(`--label ${key} given twice`);
    labels[key] = item.slice(eq + 1);
  }
  return labels;
}

function osUser(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back to the shell's idea of the user.
    return env.USER ?? env.LOGNAME;
  }
}

/** Opens the configured datastore, migrates it (a fresh one works) and runs `work`. */
async function withDatastore(
  config: ResolvedConfig,
  logger: Logger,
  io: CommandIo,
  work: (pool: pg.Pool) => Promise<number>,
): Promise<number> {
  const datastore: ResolvedDatastore | undefined = config.datastore;
  if (datastore?.url === undefined) {
    io.stderr(
      'config error: datastore.url: not set (a postgres:// URL, or "embedded"; env PGQUERYLENS_DATASTORE_URL)\n',
    );
    return EXIT_USAGE;
  }
  let opened;
  try {
    opened = await openDatastore(datastore, logger, io.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) {
        io.stderr(`config error: ${redact(formatConfigIssue(issue))}\n`);
      }
      return EXIT_USAGE;
    }
    logger.error('cannot open the datastore', { err: errorMessage(err) });
    return EXIT_RUNTIME_FAILURE;
  }
  try {
    const migrated = await migrate(opened.pool);
    if (migrated.applied.length > 0) {
      logger.info('datastore schema migrated', { from: migrated.from, to: migrated.to });
    }
    return await work(opened.pool);
  } catch (err) {
    logger.error('datastore operation failed', { err: errorMessage(err) });
    return EXIT_RUNTIME_FAILURE;
  } finally {
    await opened.pool.end().catch(() => undefined);
    await opened.close().catch(() => undefined);
  }
}

function formatTable(rows: readonly ConnectionSummary[]): string {
  if (rows.length === 0) return 'no connections stored\n';
  const header = [
    'NAME',
    'HOST',
    'PORT',
    'DATABASE',
    'USER',
    'PASSWORD',
    'SSLMODE',
    'OWNER',
    'MONITORED',
    'SOURCE',
    'LABELS',
  ];
  const lines = rows.map((r) => [
    r.name,
    r.host,
    String(r.port),
    r.databaseName,
    r.username ?? '-',
    r.hasPassword ? 'stored' : '-',
    r.sslmode ?? '-',
    r.ownedByToken ? '(token)' : (r.ownerUsername ?? '-'),
    !r.enabled ? 'disabled' : r.isMonitored ? 'yes' : 'no',
    r.source,
    Object.entries(r.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [header, ...lines]
    .map((cells) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** yargs module for `connections add|list|remove`; register with `.command(connectionsCommandModule)`. */
export function makeConnectionsCommandModule(
  options: CommandModuleOptions = {},
): CommandModule<object, CliFlags> {
  const run =
    <A extends CliFlags>(command: (flags: A, logger: Logger, io: CommandIo) => Promise<number>) =>
    async (args: unknown): Promise<void> => {
      const io = options.io ?? processIo();
      const flags = args as A;
      const code = await command(flags, options.logger ?? adminLogger(flags, io.env), io);
      (options.exit ?? setExitCode)(code);
    };
  const add: CommandModule<object, ConnectionsAddArgs> = {
    command: 'add',
    describe:
      'Store a connection for the daemon to monitor (password from stdin only); ' +
      'exit 2 on bad input or a name already taken',
    builder: (y: Argv<object>) =>
      y
        .option('name', { type: 'string', demandOption: true, describe: 'Unique connection name' })
        .option('host', { type: 'string', demandOption: true, describe: 'Host name or address' })
        .option('port', { type: 'number', default: 5432 })
        .option('database', {
          type: 'string',
          default: 'postgres',
          describe: 'Database to connect to',
        })
        .option('user', { type: 'string', describe: 'Role to connect as' })
        .option('password-stdin', {
          type: 'boolean',
          describe: 'Read the password from stdin (prompted, not echoed, on a terminal)',
        })
        .option('sslmode', { type: 'string', choices: SSL_MODES })
        .option('sslrootcert', { type: 'string', describe: 'CA file, on the daemon host' })
        .option('sslcert', { type: 'string', describe: 'Client certificate, on the daemon host' })
        .option('sslkey', { type: 'string', describe: 'Client key, on the daemon host' })
        .option('owner', {
          type: 'string',
          describe: 'Owner recorded on the connection (default: the OS user)',
        })
        .option('label', {
          type: 'string',
          array: true,
          describe: 'key=value attached to its metrics (repeatable)',
        })
        .option('secret-file', SECRET_FILE_OPTION)
        .example(
          'printf %s "$PW" | $0 connections add --name db1 --host db1.internal --user monitor --password-stdin --label env=prod',
          'Add a monitored server with an encrypted password',
        ),
    handler: run(connectionsAddCommand),
  };
  const list: CommandModule<object, ConnectionsListArgs> = {
    command: 'list',
    describe: 'List stored connections (passwords never shown, only whether one is stored)',
    builder: (y: Argv<object>) =>
      y.option('json', {
        type: 'boolean',
        describe: 'JSON array instead of a table',
      }),
    handler: run(connectionsListCommand),
  };
  const remove: CommandModule<object, ConnectionsRemoveArgs> = {
    command: 'remove <name>',
    describe:
      'Remove a stored connection (collected history stays until retention drops it); ' +
      'exit 1 when no connection has that name, 2 when a configuration file owns it',
    builder: (y: Argv<object>) =>
      y.positional('name', {
        type: 'string',
        describe: 'Connection name',
      }),
    handler: run(connectionsRemoveCommand),
  };
  return {
    command: 'connections',
    describe:
      'Manage the connections the daemon monitors from the datastore (datastore.url, --config)',
    builder: (y: Argv<object>) =>
      y
        .command(add)
        .command(list)
        .command(remove)
        .demandCommand(1, 'name a subcommand: add, list or remove'),
    handler: () => undefined,
  };
}

export const connectionsCommandModule = makeConnectionsCommandModule();

function setExitCode(code: number): void {
  process.exitCode = code;
}
