import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Writes whole lines to stdout or a file, honouring backpressure. */
export class LineWriter {
  readonly #stream: Writable;
  readonly #ownsStream: boolean;
  #failure: Error | undefined;

  /** `-` means stdout; anything else is a file opened for appending. */
  constructor(path: string, stdout: Writable = process.stdout) {
    this.#ownsStream = path !== '-';
    this.#stream = this.#ownsStream ? createWriteStream(path, { flags: 'a' }) : stdout;
    // EPIPE on a closed pipe, ENOSPC on a full disk: remember it and fail the next write,
    // so the export manager counts it instead of the process crashing.
    this.#stream.on('error', (err) => {
      this.#failure = err;
    });
  }

  async write(line: string, signal?: AbortSignal): Promise<void> {
    if (this.#failure !== undefined) {
      throw this.#failure;
    }
    if (!this.#stream.write(`${line}\n`)) {
      await once(this.#stream, 'drain', signal === undefined ? {} : { signal });
    }
  }

  async close(): Promise<void> {
    if (this.#ownsStream && !this.#stream.writableEnded) {
      this.#stream.end();
      await once(this.#stream, 'finish').catch(() => undefined);
    }
  }
}
