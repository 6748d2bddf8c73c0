import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import yargs from 'yargs';
import {
  addConnection,
  monitoredConnections,
} from '../../src/adapters/datastore/connections-store.js';
import { decryptPassword } from '../../src/adapters/datastore/password-crypto.js';
import {
  connectionsAddCommand,
  connectionsListCommand,
  connectionsRemoveCommand,
  makeConnectionsCommandModule,
  type ConnectionsAddArgs,
} from '../../src/cli/connections-command.js';
import {
  encryptPasswordCommand,
  makeEncryptPasswordCommandModule,
  readPasswordFromStdin,
  type CommandInput,
  type CommandIo,
} from '../../src/cli/encrypt-password-command.js';
import { createLogger } from '../../src/cli/logger.js';
import type { Logger } from '../../src/core/logger.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';

const SECRET = 'integration-server-secret-5b1e';
const PASSWORD = 'Tr0ub4dor&3-integration-pw';
const OTHER_PASSWORD = 'second-Password-for-encrypt-cmd';

/** Everything any command wrote, by any path, for the never-leaks assertions. */
const everything: string[] = [];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly logs: string;
}

let url: string;
let dir: string;
let secretFile: string;
let env: NodeJS.ProcessEnv;

function capture(stdin: CommandInput = Readable.from([])): {
  io: CommandIo;
  logger: Logger;
  result: (code: number) => Run;
} {
  const out: string[] = [];
  const err: string[] = [];
  const logs: string[] = [];
  const record = (into: string[]) => (text: string) => {
    into.push(text);
    everything.push(text);
  };
  return {
    io: { stdin, stdout: record(out), stderr: record(err), env },
    logger: createLogger({ level: 'debug', format: 'json', write: record(logs) }),
    result: (code) => ({ code, stdout: out.join(''), stderr: err.join(''), logs: logs.join('') }),
  };
}

function stdinOf(text: string): Readable {
  return Readable.from([Buffer.from(text, 'utf8')]);
}

async function add(args: ConnectionsAddArgs, stdin?: Readable): Promise<Run> {
  const c = capture(stdin);
  return c.result(await connectionsAddCommand(args, c.logger, c.io));
}

async function list(json = false): Promise<Run> {
  const c = capture();
  return c.result(await connectionsListCommand({ json }, c.logger, c.io));
}

async function remove(name: string): Promise<Run> {
  const c = capture();
  return c.result(await connectionsRemoveCommand({ name }, c.logger, c.io));
}

interface StoredRow {
  name: string;
  host: string;
  port: number;
  database_name: string;
  username: string | null;
  password_encrypted: string | null;
  sslmode: string | null;
  sslrootcert: string | null;
  owner_username: string | null;
  owner_token: string | null;
  labels: Record<string, string>;
  source: string;
  is_monitored: boolean;
  enabled: boolean;
}

async function stored(name: string): Promise<StoredRow | undefined> {
  const rows = await queryOnce<StoredRow>(url, 'SELECT * FROM public.connections WHERE name = $1', [
    name,
  ]);
  return rows[0];
}

beforeAll(async () => {
  url = await freshDatabase(inject('pgUrl'), 'pgql_conn');
  dir = await mkdtemp(path.join(tmpdir(), 'pgql-conn-'));
  secretFile = path.join(dir, 'secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
  // Only what the commands need: no PG* or PGQUERYLENS_* of the developer's shell.
  env = { PGQUERYLENS_DATASTORE_URL: url, PGQUERYLENS_SECRET_FILE: secretFile };
  // Direct writes (config errors) are captured too.
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(
      (
        chunk: string | Uint8Array,
        encoding?: BufferEncoding,
        cb?: (err?: Error | null) => void,
      ) => {
        everything.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return original(chunk, encoding, cb);
      },
    );
  }
});

afterAll(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
  // The passwords and the secret never appeared in anything the commands wrote.
  const all = everything.join('');
  expect(all.length).toBeGreaterThan(0);
  for (const secret of [PASSWORD, OTHER_PASSWORD, SECRET]) {
    expect(all).not.toContain(secret);
  }
});

describe('connections add', () => {
  it('stores the password encrypted with the server secret, on a fresh datastore', async () => {
    const run = await add(
      {
        name: 'db1',
        host: 'db1.internal',
        port: 6432,
        user: 'monitor',
        passwordStdin: true,
        sslmode: 'verify-full',
        sslrootcert: '/etc/ssl/ca.pem',
        label: ['env=prod', 'team=dba=core'],
      },
      stdinOf(`${PASSWORD}\n`),
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^added connection db1 \(id \d+, password stored encrypted\)\n$/);
    for (const text of [run.stdout, run.stderr, run.logs]) expect(text).not.toContain(PASSWORD);

    const row = await stored('db1');
    expect(row).toMatchObject({
      host: 'db1.internal',
      port: 6432,
      database_name: 'postgres',
      username: 'monitor',
      sslmode: 'verify-full',
      sslrootcert: '/etc/ssl/ca.pem',
      owner_username: userInfo().username,
      owner_token: null,
      labels: { env: 'prod', team: 'dba=core' },
      source: 'datastore',
      is_monitored: true,
      enabled: true,
    });
    const encrypted = row?.password_encrypted ?? '';
    expect(encrypted).not.toContain(PASSWORD);
    expect(Buffer.from(encrypted, 'base64').toString('latin1')).not.toContain(PASSWORD);
    expect(Buffer.from(encrypted, 'base64')).toHaveLength(16 + 12 + PASSWORD.length + 16);
    expect(await decryptPassword(encrypted, SECRET)).toBe(PASSWORD);
    await expect(decryptPassword(encrypted, 'not-the-secret')).rejects.toThrow();
  });

  it('stores no password without --password-stdin, and takes --owner and --database', async () => {
    const run = await add({ name: 'db2', host: '10.0.0.2', database: 'app', owner: 'alice' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('no password');
    const row = await stored('db2');
    expect(row).toMatchObject({
      port: 5432,
      database_name: 'app',
      username: null,
      password_encrypted: null,
      owner_username: 'alice',
      labels: {},
    });
  });

  it('exits 2 on a duplicate name, saying so', async () => {
    const before = await stored('db1');
    const run = await add(
      { name: 'db1', host: 'elsewhere', passwordStdin: true },
      stdinOf(`${PASSWORD}\n`),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/a connection named db1 already exists/);
    expect(run.stdout).toBe('');
    expect(await stored('db1')).toEqual(before);
  });

  it('exits 2 naming the problem on bad input, before touching the datastore', async () => {
    const cases: [ConnectionsAddArgs, RegExp][] = [
      [{ host: 'h' }, /--name is required/],
      [{ name: 'bad name', host: 'h' }, /--name "bad name": use letters/],
      [{ name: 'x1' }, /--host is required/],
      [{ name: 'x1', host: 'h', port: 70000 }, /--port must be an integer from 1 to 65535/],
      [{ name: 'x1', host: 'h', port: Number.NaN }, /--port/],
      [{ name: 'x1', host: 'h', sslmode: 'sometimes' }, /--sslmode must be one of disable/],
      [{ name: 'x1', host: 'h', label: ['novalue'] }, /--label "novalue": expected key=value/],
      [{ name: 'x1', host: 'h', label: ['a=1', 'a=2'] }, /--label a given twice/],
    ];
    for (const [args, message] of cases) {
      const run = await add(args);
      expect(run.code, JSON.stringify(args)).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect(await stored('x1')).toBeUndefined();
  });

  it('exits 2 when a password is wanted but there is no server secret', async () => {
    const saved = env;
    try {
      env = { PGQUERYLENS_DATASTORE_URL: url };
      const run = await add(
        { name: 'x2', host: 'h', passwordStdin: true },
        stdinOf(`${PASSWORD}\n`),
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /no server secret file: pass --secret-file.*PGQUERYLENS_SECRET_FILE/,
      );

      const empty = path.join(dir, 'empty-secret');
      await writeFile(empty, '');
      const emptyRun = await add(
        { name: 'x2', host: 'h', passwordStdin: true, secretFile: empty },
        stdinOf(`${PASSWORD}\n`),
      );
      expect(emptyRun.code).toBe(2);
      expect(emptyRun.stderr).toContain(`the server secret file ${empty} is empty`);
    } finally {
      env = saved;
    }
    expect(await stored('x2')).toBeUndefined();
  });

  it('exits 2 on an empty or multi-line password', async () => {
    for (const input of ['\n', '', 'one\ntwo\n']) {
      const run = await add({ name: 'x3', host: 'h', passwordStdin: true }, stdinOf(input));
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/no password on stdin|more than one line/);
    }
    expect(await stored('x3')).toBeUndefined();
  });

  it('exits 2 without a datastore URL', async () => {
    const saved = env;
    try {
      env = {};
      const run = await add({ name: 'x4', host: 'h' });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/datastore\.url: not set/);
    } finally {
      env = saved;
    }
  });
});

describe('connections list', () => {
  it('shows whether a password is stored, never the password', async () => {
    const encrypted = (await stored('db1'))?.password_encrypted ?? '';
    const run = await list();
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+HOST\s+PORT\s+DATABASE\s+USER\s+PASSWORD\s+SSLMODE/);
    const db1 = lines.find((l) => l.startsWith('db1 '));
    expect(db1).toMatch(/db1\.internal\s+6432\s+postgres\s+monitor\s+stored\s+verify-full/);
    expect(db1).toContain('env=prod,team=dba=core');
    expect(lines.find((l) => l.startsWith('db2 '))).toMatch(/\s-\s/);
    for (const text of [run.stdout, run.stderr, run.logs]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(encrypted);
    }
  });

  it('--json gives hasPassword and no password field', async () => {
    const encrypted = (await stored('db1'))?.password_encrypted ?? '';
    const run = await list(true);
    expect(run.code).toBe(0);
    const rows = JSON.parse(run.stdout) as Record<string, unknown>[];
    const db1 = rows.find((r) => r.name === 'db1');
    expect(db1).toMatchObject({
      name: 'db1',
      host: 'db1.internal',
      port: 6432,
      username: 'monitor',
      hasPassword: true,
      source: 'datastore',
    });
    expect(rows.find((r) => r.name === 'db2')?.hasPassword).toBe(false);
    for (const row of rows) {
      const keys = Object.keys(row);
      expect(keys.filter((k) => /password|encrypted/i.test(k))).toEqual(['hasPassword']);
      expect(keys).not.toContain('ownerToken');
    }
    expect(run.stdout).not.toContain(encrypted);
    expect(run.stdout).not.toContain(PASSWORD);
  });
});

describe('monitoredConnections', () => {
  it('returns datastore rows that are monitored and enabled, with the encrypted password', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await addConnection(pool, {
        name: 'paused',
        host: 'h',
        port: 5432,
        databaseName: 'postgres',
        ownerUsername: 'bob',
        labels: {},
        isMonitored: false,
      });
      await addConnection(pool, {
        name: 'disabled',
        host: 'h',
        port: 5432,
        databaseName: 'postgres',
        ownerUsername: 'bob',
        labels: {},
        enabled: false,
      });
      await pool.query(
        `INSERT INTO public.connections (name, host, owner_username, source)
         VALUES ('from-config', 'h', 'pgquerylens', 'config')`,
      );
      const rows = await monitoredConnections(pool);
      expect(rows.map((r) => r.name)).toEqual(['db1', 'db2']);
      const db1 = rows[0]!;
      expect(db1.updatedAt).toBeInstanceOf(Date);
      expect(db1.labels).toEqual({ env: 'prod', team: 'dba=core' });
      expect(await decryptPassword(db1.passwordEncrypted ?? '', SECRET)).toBe(PASSWORD);
      expect(rows[1]?.passwordEncrypted).toBeNull();
    } finally {
      await pool.end();
    }
  });
});

describe('connections remove', () => {
  it('removes a connection, then exits 1 for the unknown name', async () => {
    const run = await remove('db2');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('removed connection db2\n');
    expect(await stored('db2')).toBeUndefined();
    expect((await list()).stdout).not.toMatch(/^db2 /m);

    const again = await remove('db2');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no connection named db2/);
  });

  it("exits 2 and keeps a row a configuration file's target registered", async () => {
    const run = await remove('from-config');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/configuration file/);
    expect(await stored('from-config')).toBeDefined();
  });
});

describe('encrypt-password', () => {
  it('prints a value that decrypts to the password read from stdin', async () => {
    const c = capture(stdinOf(`${OTHER_PASSWORD}\n`));
    const run = c.result(await encryptPasswordCommand({}, c.logger, c.io));
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^[A-Za-z0-9+/]+={0,2}\n$/);
    expect(run.stdout).not.toContain(OTHER_PASSWORD);
    expect(await decryptPassword(run.stdout.trim(), SECRET)).toBe(OTHER_PASSWORD);
  });

  it('takes --secret-file over the environment, and exits 2 without a secret', async () => {
    const other = path.join(dir, 'other-secret');
    await writeFile(other, 'the-other-secret-value');
    const c = capture(stdinOf(OTHER_PASSWORD));
    const run = c.result(await encryptPasswordCommand({ secretFile: other }, c.logger, c.io));
    expect(run.code).toBe(0);
    expect(await decryptPassword(run.stdout.trim(), 'the-other-secret-value')).toBe(OTHER_PASSWORD);

    const saved = env;
    try {
      env = {};
      const none = capture(stdinOf(OTHER_PASSWORD));
      const noSecret = none.result(await encryptPasswordCommand({}, none.logger, none.io));
      expect(noSecret.code).toBe(2);
      expect(noSecret.stderr).toMatch(/no server secret file/);
      expect(noSecret.stdout).toBe('');
    } finally {
      env = saved;
    }
  });

  it('on a terminal, prompts on stderr and reads a line without echo', async () => {
    const tty = new PassThrough() as PassThrough & {
      isTTY: boolean;
      setRawMode: (mode: boolean) => unknown;
    };
    tty.isTTY = true;
    const modes: boolean[] = [];
    tty.setRawMode = (mode) => modes.push(mode);
    const c = capture(tty);
    const reading = readPasswordFromStdin(c.io, 'Password: ');
    // Typed: "secrex", backspace, "t-typed", Enter.
    tty.write('secrex\u007f');
    tty.write('t-typed\r');
    expect(await reading).toBe('secret-typed');
    expect(modes).toEqual([true, false]);
    const run = c.result(0);
    expect(run.stderr).toBe('Password: \n');
    expect(run.stdout).toBe('');
  });
});

describe('yargs modules', () => {
  const exits: number[] = [];
  afterEach(() => {
    exits.length = 0;
  });

  async function parse(argv: string[], stdin?: Readable): Promise<Run> {
    const c = capture(stdin);
    const options = { io: c.io, logger: c.logger, exit: (code: number) => exits.push(code) };
    let failure: string | undefined;
    // Like main.ts, whose fail handler exits: a failed parse must not reach the handler. yargs
    // throws some failures synchronously and rejects with others.
    try {
      await yargs(argv)
        .option('config', { type: 'string' })
        .command(makeConnectionsCommandModule(options))
        .command(makeEncryptPasswordCommandModule(options))
        .strict()
        .exitProcess(false)
        .fail((message, err) => {
          failure = message ?? err?.message;
          throw new Error(failure);
        })
        .parseAsync();
    } catch {
      // recorded in `failure`
    }
    if (failure !== undefined) c.io.stderr(failure);
    return c.result(exits[0] ?? (failure === undefined ? -1 : 2));
  }

  it('maps add, list and remove flags onto the commands', async () => {
    const added = await parse(
      [
        'connections',
        'add',
        '--name',
        'via-yargs',
        '--host',
        'y.internal',
        '--port',
        '7000',
        '--label',
        'a=1',
        '--label',
        'b=2',
        '--password-stdin',
        '--sslmode',
        'require',
      ],
      stdinOf(`${PASSWORD}\n`),
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const row = await stored('via-yargs');
    expect(row).toMatchObject({ port: 7000, sslmode: 'require', labels: { a: '1', b: '2' } });
    expect(await decryptPassword(row?.password_encrypted ?? '', SECRET)).toBe(PASSWORD);

    const listed = await parse(['connections', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual(
      expect.objectContaining({ name: 'via-yargs', hasPassword: true }),
    );

    const removed = await parse(['connections', 'remove', 'via-yargs']);
    expect(removed.code).toBe(0);
    expect(await stored('via-yargs')).toBeUndefined();
  });

  it('rejects a missing subcommand or flag, and a password in argv', async () => {
    expect((await parse(['connections'])).stderr).toMatch(/name a subcommand/);
    expect((await parse(['connections', 'add', '--name', 'n'])).stderr).toMatch(/host/);
    // Not PASSWORD: yargs echoes unknown arguments, which is why passwords never go in argv.
    const inArgv = await parse([
      'connections',
      'add',
      '--name',
      'n',
      '--host',
      'h',
      '--password',
      'pw',
    ]);
    expect(inArgv.code).toBe(2);
    expect(await stored('n')).toBeUndefined();
  });

  it('runs encrypt-password', async () => {
    const run = await parse(['encrypt-password'], stdinOf(`${OTHER_PASSWORD}\n`));
    expect(run.code).toBe(0);
    expect(await decryptPassword(run.stdout.trim(), SECRET)).toBe(OTHER_PASSWORD);
  });
});
