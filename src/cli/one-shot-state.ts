import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { TargetIdentity } from '../core/model/target-identity.js';

const VERSION = 1;

/** The directory state lives in: the configured one, or one under the OS temp dir. */
export function stateDirOf(configured: string | undefined): string {
  return configured ?? path.join(os.tmpdir(), 'pgquerylens');
}

/**
 * The collectors' state between one-shot processes, one file per target: written atomically
 * (temp file + rename, so a killed run leaves the old file or the new one, never half of one),
 * ignored past its TTL, and rebuilt, with a warning, when unreadable.
 */
export class OneShotStateStore {
  readonly #dir: string;
  readonly #ttlMs: number;
  readonly #logger: Logger;

  constructor(dir: string, ttlMs: number, logger: Logger) {
    this.#dir = dir;
    this.#ttlMs = ttlMs;
    this.#logger = logger;
  }

  fileOf(target: TargetIdentity): string {
    const id = createHash('sha256')
      .update(`${target.name}\u0000${target.host}\u0000${target.port}`)
      .digest('hex')
      .slice(0, 16);
    return path.join(this.#dir, `pgquerylens-state-${id}.json`);
  }

  /** The saved state by service name; undefined when absent, stale or unreadable. */
  load(target: TargetIdentity, now = Date.now()): Readonly<Record<string, unknown>> | undefined {
    const file = this.fileOf(target);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      // Absent on the first run: nothing to say.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#logger.warn('collector state unreadable; starting afresh', {
          file,
          err: errorMessage(err),
        });
      }
      return undefined;
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object') throw new Error('not an object');
      const o = parsed as Record<string, unknown>;
      if (o.version !== VERSION || typeof o.savedAt !== 'number') throw new Error('unknown format');
      if (o.services === null || typeof o.services !== 'object') throw new Error('no services');
      if (now - o.savedAt > this.#ttlMs) return undefined;
      return o.services as Record<string, unknown>;
    } catch (err) {
      this.#logger.warn('collector state corrupt; starting afresh', {
        file,
        err: errorMessage(err),
      });
      return undefined;
    }
  }

  /** Writes the state; a failure is logged (the next run starts afresh), never thrown. */
  save(
    target: TargetIdentity,
    services: Readonly<Record<string, unknown>>,
    now = Date.now(),
  ): void {
    const file = this.fileOf(target);
    const temp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      writeFileSync(temp, JSON.stringify({ version: VERSION, savedAt: now, services }), {
        mode: 0o600,
      });
      renameSync(temp, file);
    } catch (err) {
      rmSync(temp, { force: true });
      this.#logger.warn('could not save collector state', { file, err: errorMessage(err) });
    }
  }
}
