import type { ActivityText } from './activity-text.js';

/**
 * Remembers what raw session texts became, so the sampler does not obfuscate the same
 * statement every second. Bounded; the least recently used text goes first.
 */
export class ActivityTextMemo {
  readonly #max: number;
  readonly #convert: (raw: string) => ActivityText;
  readonly #memo = new Map<string, ActivityText>();

  constructor(max: number, convert: (raw: string) => ActivityText) {
    this.#max = max;
    this.#convert = convert;
  }

  get(raw: string | null | undefined): ActivityText {
    if (raw === null || raw === undefined || raw === '') return { truncated: false };
    const known = this.#memo.get(raw);
    if (known !== undefined) {
      this.#memo.delete(raw);
      this.#memo.set(raw, known);
      return known;
    }
    const made = this.#convert(raw);
    this.#memo.set(raw, made);
    if (this.#memo.size > this.#max) {
      const oldest = this.#memo.keys().next().value;
      if (oldest !== undefined) this.#memo.delete(oldest);
    }
    return made;
  }
}
