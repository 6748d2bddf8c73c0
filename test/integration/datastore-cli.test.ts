import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BUILTIN_PROBES } from '../../src/collectors/builtin-collectors.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';

const pgUrl = inject('pgUrl');
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the CLI with a datastore', () => {
  it('migrate creates the schema and is idempotent; gc runs on it', async () => {
    const url = await freshDatabase(pgUrl);
    const env = cleanEnv({ PGQUERYLENS_DATASTORE_URL: url });
    const first = await runCli(['migrate'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/migrated from version 0 to \d+/);
    const second = await runCli(['migrate'], env);
    expect(second.stdout).toMatch(/schema is current/);
    const gc = await runCli(['gc'], env);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(/0 partition\(s\) dropped/);
    expect(`${first.stdout}${first.stderr}${gc.stderr}`).not.toContain(new URL(url).password);
  });

  it('migrate without a datastore URL exits 2 naming the key', async () => {
    const result = await runCli(['migrate'], cleanEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('datastore.url');
  });

  it('a --once run stores every probe row it collected, under the target', async () => {
    const url = await freshDatabase(pgUrl);
    const result = await runCli(
      ['--once', '--target', pgUrl, '--output', 'json', '--log-level', 'info'],
      cleanEnv({ PGQUERYLENS_DATASTORE_URL: url }),
    );
    expect(result.code, result.stderr).toBe(0);
    const batch = JSON.parse(result.stdout.trim().split('\n')[0] ?? '{}') as {
      probes: { probe: string; rows: unknown[] }[];
    };
    const produced = new Map<string, number>();
    for (const sample of batch.probes) {
      produced.set(sample.probe, (produced.get(sample.probe) ?? 0) + sample.rows.length);
    }
    expect(produced.get('pg_stat_database')).toBeGreaterThan(0);
    for (const [probe, rows] of produced) {
      if (rows === 0) continue;
      const stored = await queryOnce<{ n: number }>(
        url,
        `SELECT count(*)::int AS n FROM metrics.${probe}`,
      );
      expect(stored[0]?.n, probe).toBe(rows);
    }
    const connections = await queryOnce<{ name: string }>(url, 'SELECT name FROM connections');
    expect(connections).toHaveLength(1);
    expect(result.stderr).toMatch(/"datastore":\{"rowsWritten":\d+/);
  });

  it('keeps history in an embedded datastore across runs (datastore.url: embedded)', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pgql-embedded-ds-'));
    dirs.push(dataDir);
    // As root the server runs as an unprivileged user, who must be able to reach the directory.
    await chmod(dataDir, 0o755);
    const env = cleanEnv({
      PGQUERYLENS_DATASTORE_URL: 'embedded',
      PGQUERYLENS_CONFIG: '',
    });
    const config = path.join(dataDir, 'c.yaml');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      config,
      `targets: [{ url: "${pgUrl}", name: emb }]\ndatastore: { url: embedded, dataDir: "${path.join(dataDir, 'store')}" }\ncollectors: { pg_settings: { enabled: false } }\n`,
    );
    for (let i = 0; i < 2; i++) {
      const run = await runCli(['--once', '--config', config, '--output', 'summary'], env, 120_000);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/"rowsWritten":[1-9]/);
    }
    const info = await runCli(['migrate', '--config', config], env, 120_000);
    expect(info.stdout).toMatch(/schema is current/);
  });

  it('lists every probe with `collectors`', async () => {
    const result = await runCli(['collectors', '--format', 'json'], cleanEnv());
    const docs = JSON.parse(result.stdout) as { name: string }[];
    expect(docs.map((d) => d.name)).toEqual(BUILTIN_PROBES.map((p) => p.name));
  });
});
