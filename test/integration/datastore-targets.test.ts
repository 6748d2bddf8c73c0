import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, collect, runCli, startCli } from '../helpers/cli.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';

const pgUrl = inject('pgUrl');
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface Batch {
  target: { name: string };
  probes: { probe: string }[];
}

async function batches(file: string): Promise<Batch[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Batch);
}

/** A scratch directory, a fresh datastore and the environment pointing at both. */
async function storedSetup(
  prefix: string,
): Promise<{ dir: string; datastore: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  dirs.push(dir);
  const datastore = await freshDatabase(pgUrl);
  const secretFile = path.join(dir, 'secret');
  await writeFile(secretFile, 'a-server-secret-for-tests\n', { mode: 0o600 });
  const env = cleanEnv({
    PGQUERYLENS_DATASTORE_URL: datastore,
    PGQUERYLENS_SECRET_FILE: secretFile,
  });
  return { dir, datastore, env };
}

describe('targets and probe settings stored in the datastore', () => {
  it('are picked up, changed and dropped while the collector runs', async () => {
    const { dir, datastore, env } = await storedSetup('pgql-stored-');
    const server = new URL(pgUrl);
    const added = startCli(
      [
        'connections',
        'add',
        '--name',
        'stored1',
        '--host',
        server.hostname,
        '--port',
        server.port,
        '--user',
        decodeURIComponent(server.username),
        '--password-stdin',
        '--owner',
        'tests',
      ],
      env,
    );
    added.stdin.end(`${decodeURIComponent(server.password)}\n`);
    const addResult = await collect(added);
    expect(addResult.code, addResult.stderr).toBe(0);

    const out = path.join(dir, 'batches.jsonl');
    const config = path.join(dir, 'config.yaml');
    await writeFile(
      config,
      [
        'interval: 1s',
        'datastore:',
        '  refresh: 1s',
        'collectors:',
        '  pg_settings: { enabled: false }',
        '',
      ].join('\n'),
    );
    const daemon = startCli(
      ['--config', config, '--output', 'json', '--output-file', out, '--log-level', 'info'],
      env,
    );
    const done = collect(daemon, 90_000);
    try {
      await expect
        .poll(async () => (await batches(out)).filter((b) => b.target.name === 'stored1').length, {
          timeout: 30_000,
        })
        .toBeGreaterThan(0);
      const first = (await batches(out)).find((b) => b.target.name === 'stored1');
      expect(first?.probes.map((p) => p.probe)).toContain('pg_connectivity');

      // A per-connection override switches a probe off without a restart.
      await queryOnce(
        datastore,
        `INSERT INTO probe_configs (connection_id, name, is_enabled)
         SELECT id, 'pg_connectivity', false FROM connections WHERE name = 'stored1'`,
      );
      const seenBefore = (await batches(out)).length;
      await expect
        .poll(
          async () => {
            const recent = (await batches(out)).slice(seenBefore + 3);
            return (
              recent.length > 2 &&
              recent.every((b) => !b.probes.some((p) => p.probe === 'pg_connectivity'))
            );
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBe(true);

      // Disabling the connection stops its collection.
      await queryOnce(datastore, "UPDATE connections SET enabled = false WHERE name = 'stored1'");
      await expect
        .poll(
          async () => {
            const all = await batches(out);
            return all.length;
          },
          { timeout: 10_000 },
        )
        .toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 3_000));
      const afterDisable = (await batches(out)).length;
      await new Promise((r) => setTimeout(r, 3_000));
      expect((await batches(out)).length).toBe(afterDisable);
    } finally {
      daemon.kill('SIGTERM');
    }
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('monitoring a stored connection');
    expect(result.stderr).toContain('stopped monitoring a stored connection');
    expect(result.stderr).not.toContain(decodeURIComponent(server.password));
    // The stored rows carry the stored connection's id.
    const ids = await queryOnce<{ n: number }>(
      datastore,
      `SELECT count(*)::int AS n FROM metrics.pg_stat_database m
         JOIN connections c ON c.id = m.connection_id WHERE c.name = 'stored1'`,
    );
    expect(ids[0]?.n).toBeGreaterThan(0);
  });

  it('a --once run with no target anywhere exits 1 and says why', async () => {
    const datastore = await freshDatabase(pgUrl);
    const result = await runCli(['--once'], cleanEnv({ PGQUERYLENS_DATASTORE_URL: datastore }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing to collect');
  });

  it('are sharded over replicas like configured targets', async () => {
    const { dir, env } = await storedSetup('pgql-stored-shard-');
    const server = new URL(pgUrl);
    const names = ['shard-a', 'shard-b', 'shard-c', 'shard-d', 'shard-e', 'shard-f'];
    for (const name of names) {
      const add = startCli(
        [
          ...['connections', 'add', '--name', name, '--host', server.hostname],
          ...['--port', server.port, '--user', decodeURIComponent(server.username)],
          ...['--password-stdin', '--owner', 'tests'],
        ],
        env,
      );
      add.stdin.end(`${decodeURIComponent(server.password)}\n`);
      const result = await collect(add);
      expect(result.code, result.stderr).toBe(0);
    }
    const config = path.join(dir, 'config.yaml');
    await writeFile(config, 'collectors:\n  pg_settings: { enabled: false }\n');
    const shares: string[][] = [];
    for (const pod of ['collector-0', 'collector-1']) {
      const result = await runCli(
        ['--config', config, '--once', '--output', 'json'],
        { ...env, PGQUERYLENS_SHARDS: '2', POD_NAME: pod },
        120_000,
      );
      expect(result.code, result.stderr).toBe(0);
      shares.push(
        result.stdout
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => (JSON.parse(l) as Batch).target.name),
      );
    }
    expect(shares.flat().sort()).toEqual(names);
    expect(shares.every((share) => share.length < names.length)).toBe(true);
  }, 180_000);
});
