import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { TargetIdentity } from '../core/model/target-identity.js';

const VERSION = 1;

/** A lock older than this is from a run the agent must have killed long ago. */
const STALE_LOCK_MS = 10 * 60_000;

/**
 * The collectors' state between one-shot processes, one file per target and configuration:
 * written atomically (temp file + rename, so a killed run leaves the old file or the new one),
 * ignored past its TTL, rebuilt with a warning when unreadable, and locked while a run uses it,
 * so two overlapping runs never report the same interval twice.
 */
export class OneShotStateStore {
  readonly #dir: string;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #keyOf: (target: TargetIdentity) => string;
  readonly #locked = new Set<string>();

  /** `keyOf` names a target's state: everything that shapes it (databases, user, …), hashed. */
  constructor(
    dir: string,
    ttlMs: number,
    logger: Logger,
    keyOf: (target: TargetIdentity) => string,
  ) {
    this.#dir = dir;
    this.#ttlMs = ttlMs;
    this.#logger = logger;
    this.#keyOf = keyOf;
  }

  fileOf(target: TargetIdentity): string {
    return path.join(this.#dir, `pgquerylens-state-${this.#keyOf(target)}.json`);
  }

  /**
   * Takes the target's lock; false when another live run holds it (this run then neither
   * reads nor writes the state, and its slow queries start from a baseline).
   */
  acquire(target: TargetIdentity, now = Date.now()): boolean {
    const lock = `${this.fileOf(target)}.lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
        this.#locked.add(lock);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          this.#logger.warn('cannot lock the collector state; keeping none this run', {
            file: lock,
            err: errorMessage(err),
          });
          return false;
        }
        if (!staleLock(lock, now)) {
          this.#logger.warn(
            'another run of this target is still going; keeping no state this run',
            {
              file: lock,
            },
          );
          return false;
        }
        rmSync(lock, { force: true });
      }
    }
    return false;
  }

  /** Whether this process holds the target's lock. */
  holds(target: TargetIdentity): boolean {
    return this.#locked.has(`${this.fileOf(target)}.lock`);
  }

  /** Releases what acquire took; a no-op otherwise. */
  release(target: TargetIdentity): void {
    const lock = `${this.fileOf(target)}.lock`;
    if (this.#locked.delete(lock)) rmSync(lock, { force: true });
  }

  /** The saved state by service name; undefined when absent, stale or unreadable. */
  load(target: TargetIdentity, now = Date.now()): Readonly<Record<string, unknown>> | undefined {
    const file = this.fileOf(target);
    let text: string;
    try {
      // Never through a link: the directory is ours, so a link in it is somebody's trick.
      const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        text = readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#logger.warn('collector state unreadable; starting afresh', {
          file,
          err: (err as NodeJS.ErrnoException).code ?? 'error',
        });
      }
      return undefined;
    }
    // Reasons only, never the text: a parse error quotes the file's content.
    const corrupt = (reason: string): undefined => {
      this.#logger.warn('collector state corrupt; starting afresh', { file, reason });
      return undefined;
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return corrupt('not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object') return corrupt('not an object');
    const o = parsed as Record<string, unknown>;
    if (o.version !== VERSION || typeof o.savedAt !== 'number') return corrupt('unknown format');
    if (o.services === null || typeof o.services !== 'object') return corrupt('no services');
    if (now - o.savedAt > this.#ttlMs) return undefined;
    return o.services as Record<string, unknown>;
  }

  /** Writes the state; a failure is logged (the next run starts afresh), never thrown. */
  save(
    target: TargetIdentity,
    services: Readonly<Record<string, unknown>>,
    now = Date.now(),
  ): void {
    const file = this.fileOf(target);
    const temp = path.join(this.#dir, `.${randomBytes(8).toString('hex')}.tmp`);
    try {
      writeFileSync(temp, JSON.stringify({ version: VERSION, savedAt: now, services }), {
        mode: 0o600,
        flag: 'wx',
      });
      renameSync(temp, file);
    } catch (err) {
      rmSync(temp, { force: true });
      this.#logger.warn('could not save collector state', { file, err: errorMessage(err) });
    }
  }
}

/** Whether a lock's holder is gone (not running) or it is too old to be a live run's. */
function staleLock(lock: string, now: number): boolean {
  try {
    if (now - statSync(lock).mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number(readFileSync(lock, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return true;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: alive, another user's; ESRCH: gone; ENOENT: released meanwhile.
    return (err as NodeJS.ErrnoException).code !== 'EPERM';
  }
}
