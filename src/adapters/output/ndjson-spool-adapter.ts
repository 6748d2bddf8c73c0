import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import path from 'node:path';
import { constants as zlib, createGunzip, gzipSync } from 'node:zlib';
import { errorMessage } from '../../core/errors.js';
import type { ExportAdapter } from '../../core/export-adapter.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { UnifiedMetrics } from '../../core/model/unified-metrics.js';

/** Suffix of a finished spool file: complete gzip, whole lines only, ready for `load`. */
export const SPOOL_FINISHED_SUFFIX = '.ndjson.gz';
/** Suffix of the file being written; never meant for `load`. */
export const SPOOL_PARTIAL_SUFFIX = '.ndjson.gz.partial';

export const DEFAULT_SPOOL_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_SPOOL_MAX_AGE_MS = 5 * 60_000;
/** Upper bound of maxAgeMs; it lets a restart tell a live writer's file from an orphan. */
export const MAX_SPOOL_MAX_AGE_MS = 60 * 60_000;

export interface NdjsonSpoolAdapterOptions {
  /** Spool directory; created with mode 0700 when missing. */
  readonly dir: string;
  /** Finish the current file once it holds this many uncompressed bytes. Default 16 MiB. */
  readonly maxBytes?: number;
  /** Finish the current file once it is this old, ms, even when idle. Default 5 min, at most 1 h. */
  readonly maxAgeMs?: number;
  readonly logger?: Logger;
}

/** Counters of the spool adapter. */
export interface NdjsonSpoolStats {
  /** Batches written (one line each). */
  readonly lines: number;
  /** Files finished (renamed to `.ndjson.gz`) by this instance, oldest first. */
  readonly finishedFiles: readonly string[];
  /** The `.partial` being written, if any. */
  readonly currentFile: string | undefined;
  /** Orphaned `.partial` files completed at start. */
  readonly recoveredFiles: number;
}

/** What completing an orphaned `.partial` did. */
export interface RecoveredSpoolFile {
  /** The finished file, or undefined when no complete line survived (the partial is removed). */
  readonly file: string | undefined;
  /** Complete lines kept. */
  readonly lines: number;
  /** Bytes of a torn last line that were discarded (uncompressed). */
  readonly discardedBytes: number;
}

// pgquerylens-20250102T030405.678Z-1234.ndjson.gz[.partial]
const NAME_PATTERN = /^pgquerylens-(\d{8}T\d{6}\.\d{3}Z)-(\d+)\.ndjson\.gz(\.partial)?$/;
const RECOVERING_PATTERN = /^pgquerylens-.*\.ndjson\.gz\.recovering-(\d+)$/;

/**
 * Store-and-forward for networks where no single place reaches every database (and the
 * datastore): each batch becomes one JSON line in gzip-compressed NDJSON files in a spool
 * directory, which are carried elsewhere and stored with `pgquerylens load`.
 *
 * The current file is `pgquerylens-<UTC time>-<pid>.ndjson.gz.partial`. It is finished (fsync,
 * atomic rename to `.ndjson.gz`) when it exceeds `maxBytes` uncompressed, when it
 * is `maxAgeMs` old (a timer, so an idle collector still hands files over), and at shutdown.
 *
 * Crash semantics: every batch is written as its own complete gzip member (concatenated members
 * are one valid gzip stream) before `export` resolves, so a crash of the process (even SIGKILL)
 * loses no acknowledged batch; a crash during a write tears at most that one last line. On the
 * next start, orphaned `.partial` files are completed: read tolerantly, cut after the last
 * complete line, rewritten as a finished file. `forceFlush` does not rotate (that would make
 * many tiny files); it fsyncs the current file so acknowledged batches survive power loss too.
 * `load` stores a batch once, so a line written twice (a retried export) is harmless.
 */
export class NdjsonSpoolAdapter implements ExportAdapter {
  readonly name = 'ndjson-spool';
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #logger: Logger;
  #started: Promise<void> | undefined;
  #current: SpoolFile | undefined;
  #ageTimer: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #lastStamp = 0;
  #lines = 0;
  #recovered = 0;
  readonly #finished: string[] = [];
  #shutDown = false;

  constructor(options: NdjsonSpoolAdapterOptions) {
    const maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    const maxAgeMs = options.maxAgeMs ?? DEFAULT_SPOOL_MAX_AGE_MS;
    if (!Number.isFinite(maxBytes) || maxBytes < 1) {
      throw new RangeError(`spool maxBytes must be at least 1, got ${maxBytes}`);
    }
    if (!Number.isFinite(maxAgeMs) || maxAgeMs < 1 || maxAgeMs > MAX_SPOOL_MAX_AGE_MS) {
      throw new RangeError(`spool maxAgeMs must be within 1..${MAX_SPOOL_MAX_AGE_MS}`);
    }
    this.#dir = options.dir;
    this.#maxBytes = maxBytes;
    this.#maxAgeMs = maxAgeMs;
    this.#logger = options.logger ?? silentLogger;
  }

  get stats(): NdjsonSpoolStats {
    return {
      lines: this.#lines,
      finishedFiles: [...this.#finished],
      currentFile: this.#current?.path,
      recoveredFiles: this.#recovered,
    };
  }

  /**
   * Creates the directory and completes `.partial` files earlier runs left. Runs once, on the
   * first export at the latest; call it at startup to hand orphans over without waiting.
   */
  start(): Promise<void> {
    this.#started ??= this.#serial(() => this.#recoverOrphans()).catch((err: unknown) => {
      // Unwritable directory, say: the next export tries again.
      this.#started = undefined;
      throw err;
    });
    return this.#started;
  }

  async export(batch: UnifiedMetrics, signal: AbortSignal): Promise<void> {
    if (this.#shutDown) throw new Error('spool adapter is shut down');
    signal.throwIfAborted();
    const line = `${JSON.stringify(batch)}\n`;
    await this.start();
    await this.#serial(async () => {
      if (this.#shutDown) throw new Error('spool adapter is shut down');
      // An export that timed out while queued must not be written after its retry.
      signal.throwIfAborted();
      if (this.#current !== undefined && Date.now() - this.#current.openedAt >= this.#maxAgeMs) {
        await this.#finishCurrent();
      }
      const file = this.#current ?? (await this.#openNext());
      try {
        await file.append(line);
      } catch (err) {
        // The compressed stream is now unreliable: give the file up as an orphan, salvage what
        // it holds, and let the export manager retry the batch into a fresh file.
        await this.#abandonCurrent(err);
        throw err;
      }
      this.#lines++;
      if (file.bytes >= this.#maxBytes) await this.#finishCurrent();
    });
  }

  /** Every acknowledged batch is already in the file; this makes it durable (fsync). */
  async forceFlush(): Promise<void> {
    await this.#serial(async () => {
      await this.#current?.sync();
    });
  }

  async shutdown(): Promise<void> {
    if (this.#shutDown) return;
    this.#shutDown = true;
    await this.#serial(() => this.#finishCurrent());
  }

  /** Runs `work` after everything queued before it; file operations never interleave. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #openNext(): Promise<SpoolFile> {
    for (;;) {
      // Strictly increasing per process, so names sort in write order even within one ms.
      this.#lastStamp = Math.max(Date.now(), this.#lastStamp + 1);
      const name = `pgquerylens-${fileStamp(this.#lastStamp)}-${process.pid}${SPOOL_PARTIAL_SUFFIX}`;
      try {
        this.#current = await SpoolFile.create(path.join(this.#dir, name));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    clearTimeout(this.#ageTimer);
    this.#ageTimer = setTimeout(() => {
      this.#serial(async () => {
        if (this.#current !== undefined && Date.now() - this.#current.openedAt >= this.#maxAgeMs) {
          await this.#finishCurrent();
        }
      }).catch((err: unknown) => {
        this.#logger.error('could not finish spool file', { err: errorMessage(err) });
      });
    }, this.#maxAgeMs);
    // Only a convenience for idle collectors: it must never keep the process alive.
    this.#ageTimer.unref();
    return this.#current;
  }

  async #finishCurrent(): Promise<void> {
    const file = this.#current;
    if (file === undefined) return;
    this.#current = undefined;
    clearTimeout(this.#ageTimer);
    try {
      const finished = await file.finish();
      this.#finished.push(finished);
      this.#logger.debug('spool file finished', { file: finished, bytes: file.bytes });
    } catch (err) {
      await file.close();
      this.#logger.error('could not finish spool file; completing it from what was written', {
        file: file.path,
        err: errorMessage(err),
      });
      await this.#salvage(file.path);
      throw err;
    }
  }

  async #abandonCurrent(cause: unknown): Promise<void> {
    const file = this.#current;
    if (file === undefined) return;
    this.#current = undefined;
    clearTimeout(this.#ageTimer);
    await file.close();
    this.#logger.error('spool write failed; starting a new file', {
      file: file.path,
      err: errorMessage(cause),
    });
    await this.#salvage(file.path);
  }

  /** Completes a `.partial` now; on failure it stays an orphan for the next start. */
  async #salvage(file: string): Promise<void> {
    try {
      const result = await recoverSpoolFile(file);
      if (result.file !== undefined) this.#finished.push(result.file);
    } catch (err) {
      this.#logger.warn('spool file left as .partial; completed on the next start', {
        file,
        err: errorMessage(err),
      });
    }
  }

  async #recoverOrphans(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const now = Date.now();
    for (const name of (await readdir(this.#dir)).sort()) {
      const full = path.join(this.#dir, name);
      const recovering = RECOVERING_PATTERN.exec(name);
      if (recovering !== null) {
        if (!isAlive(Number(recovering[1]))) await unlink(full).catch(() => undefined);
        continue;
      }
      const match = NAME_PATTERN.exec(name);
      if (match?.[3] === undefined) continue;
      const pid = Number(match[2]);
      const age = now - parseStamp(match[1] ?? '');
      // A live writer finishes its file within its maxAge (at most an hour), so an older one is
      // an orphan even if its pid now belongs to some other process.
      if (isAlive(pid) && !(age > 2 * MAX_SPOOL_MAX_AGE_MS)) {
        this.#logger.info('spool file belongs to a running process; left alone', {
          file: full,
          pid,
        });
        continue;
      }
      try {
        const result = await recoverSpoolFile(full);
        this.#recovered++;
        this.#logger.info('completed a spool file left by an earlier run', {
          file: result.file ?? full,
          lines: result.lines,
          discardedBytes: result.discardedBytes,
        });
      } catch (err) {
        this.#logger.error('could not complete an orphaned spool file', {
          file: full,
          err: errorMessage(err),
        });
      }
    }
  }
}

/**
 * Completes an orphaned `.partial`: decompresses what it can (a crash may leave the last gzip
 * member torn), keeps the complete lines, and writes them as a
 * finished file (temporary name, fsync, rename) before removing the partial. Idempotent: when
 * the finished file already exists (a crash between rename and unlink), only the partial goes.
 */
export async function recoverSpoolFile(partial: string): Promise<RecoveredSpoolFile> {
  if (!partial.endsWith(SPOOL_PARTIAL_SUFFIX)) {
    throw new Error(`${partial} is not a ${SPOOL_PARTIAL_SUFFIX} file`);
  }
  const finished = partial.slice(0, -'.partial'.length);
  if (await exists(finished)) {
    await unlink(partial);
    return { file: finished, lines: 0, discardedBytes: 0 };
  }
  const data = await tolerantGunzip(await readFile(partial));
  const end = data.lastIndexOf(0x0a) + 1;
  const lines = countNewlines(data.subarray(0, end));
  if (end === 0) {
    await unlink(partial);
    return { file: undefined, lines: 0, discardedBytes: data.length };
  }
  const tmp = `${finished}.recovering-${process.pid}`;
  const file = await SpoolFile.create(tmp);
  try {
    await file.append(data.subarray(0, end));
    await file.finishAs(finished);
  } catch (err) {
    await file.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await unlink(partial).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  return { file: finished, lines, discardedBytes: data.length - end };
}

/**
 * One gzip file, written as one gzip member per append: concatenated members are a valid gzip
 * stream, and each member is complete in the file when `append` resolves, so a crash can tear
 * at most the member being written, never an acknowledged one. (A single deflate stream with
 * sync flushes would depend on when zlib's worker hands its output back.)
 */
class SpoolFile {
  readonly path: string;
  readonly openedAt = Date.now();
  /** Uncompressed bytes appended. */
  bytes = 0;
  readonly #handle: FileHandle;
  #closed = false;

  private constructor(file: string, handle: FileHandle) {
    this.path = file;
    this.#handle = handle;
  }

  static async create(file: string): Promise<SpoolFile> {
    // wx: never append to (and corrupt) a file someone else writes.
    return new SpoolFile(file, await open(file, 'wx', 0o600));
  }

  async append(data: string | Buffer): Promise<void> {
    this.bytes += Buffer.byteLength(data);
    const member = gzipSync(data);
    let offset = 0;
    while (offset < member.length) {
      const { bytesWritten } = await this.#handle.write(member, offset);
      offset += bytesWritten;
    }
  }

  async sync(): Promise<void> {
    await this.#handle.sync();
  }

  /** Fsyncs and renames to the finished name; returns it. */
  finish(): Promise<string> {
    return this.finishAs(this.path.slice(0, -'.partial'.length));
  }

  async finishAs(target: string): Promise<string> {
    await this.#handle.sync();
    await this.close();
    await rename(this.path, target);
    await syncDir(path.dirname(target));
    return target;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close().catch(() => undefined);
  }
}

/** Decompresses as much of a (possibly truncated or torn) gzip stream as is readable. */
async function tolerantGunzip(data: Buffer): Promise<Buffer> {
  const gunzip = createGunzip({ finishFlush: zlib.Z_SYNC_FLUSH });
  const out: Buffer[] = [];
  gunzip.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise<void>((resolve) => {
    gunzip.once('end', resolve);
    // Corruption past the last good block: keep what came out before it.
    gunzip.once('error', () => resolve());
  });
  gunzip.end(data);
  await done;
  return Buffer.concat(out);
}

function countNewlines(data: Buffer): number {
  let n = 0;
  for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** `20250102T030405.678Z`: sorts by time, no characters file systems dislike. */
function fileStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

function parseStamp(stamp: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/.exec(stamp);
  if (m === null) return Number.NaN;
  return Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
}

/**
 * Whether another process with this pid runs. Our own pid counts as dead: the adapter recovers
 * before it writes, so a `.partial` with our pid is an earlier incarnation's (a container's pid 1).
 */
function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Makes a rename durable; best effort (not every platform can fsync a directory). */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Durability of the rename only; the data itself is already synced.
  }
}
