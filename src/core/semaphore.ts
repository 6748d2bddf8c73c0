/** Limits how many holders run at once; waiters are served in arrival order. */
export class Semaphore {
  #available: number;
  readonly #waiters: (() => void)[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`semaphore capacity must be a positive integer, got ${capacity}`);
    }
    this.#available = capacity;
  }

  /** Permits in use right now. */
  get inUse(): number {
    return this.capacity - this.#available;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Runs `fn` while holding a permit. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> {
    if (this.#available > 0) {
      this.#available -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next === undefined) {
      this.#available += 1;
    } else {
      // The permit passes straight to the next waiter, so none can be overtaken.
      next();
    }
  }
}
