/**
 * Statement texts by target and queryid, least recently used evicted first. pg_stat_statements
 * keeps texts in one file that every text read loads whole, so texts are fetched once per
 * queryid and reused; the bound keeps memory flat however many targets and statements there are.
 */
export class QueryTextCache {
  readonly #capacity: number;
  readonly #maxChars: number;
  #chars = 0;
  // A Map iterates in insertion order, so re-inserting on use makes the first key the LRU one.
  readonly #texts = new Map<string, string>();
  #fetched = 0;

  /** At most `capacity` texts and about `maxBytes` of them (UTF-16 characters × 2). */
  constructor(capacity: number, maxBytes = Number.POSITIVE_INFINITY) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`query text cache capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
    this.#maxChars = maxBytes / 2;
  }

  /** The cached text, marking it recently used; undefined when not cached. */
  get(target: string, queryid: string): string | undefined {
    const key = keyOf(target, queryid);
    const text = this.#texts.get(key);
    if (text !== undefined) {
      this.#texts.delete(key);
      this.#texts.set(key, text);
    }
    return text;
  }

  has(target: string, queryid: string): boolean {
    return this.#texts.has(keyOf(target, queryid));
  }

  /** Stores a text read from the server; counted in `fetched`. */
  set(target: string, queryid: string, text: string): void {
    const key = keyOf(target, queryid);
    this.#chars -= this.#texts.get(key)?.length ?? 0;
    this.#texts.delete(key);
    this.#texts.set(key, text);
    this.#chars += text.length;
    this.#fetched++;
    while (this.#texts.size > this.#capacity || this.#chars > this.#maxChars) {
      const oldest = this.#texts.entries().next().value;
      if (oldest === undefined) break;
      this.#texts.delete(oldest[0]);
      this.#chars -= oldest[1].length;
    }
  }

  get size(): number {
    return this.#texts.size;
  }

  /** Texts stored since creation, i.e. read from servers; lets tests see what was re-read. */
  get fetched(): number {
    return this.#fetched;
  }
}

// NUL cannot occur in a target name or a decimal queryid, so keys never collide.
function keyOf(target: string, queryid: string): string {
  return `${target}\u0000${queryid}`;
}
