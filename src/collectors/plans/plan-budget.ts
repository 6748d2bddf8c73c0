/**
 * Who may be explained now: at most one plan per statement per `perQueryIntervalMs`, at most
 * `maxPerCycle` EXPLAINs per server per collection cycle (shared by the cycle's databases),
 * and a failed statement not retried before its failure expires.
 */
export class PlanBudget {
  readonly #perQueryIntervalMs: number;
  readonly #maxPerCycle: number;
  readonly #failureTtlMs: number;
  /** "target/db/queryid" → when it may be explained again (epoch ms). */
  readonly #nextAllowed = new Map<string, number>();
  /** target → the cycle being counted and EXPLAINs spent in it. */
  readonly #cycles = new Map<string, { cycle: number; spent: number }>();
  readonly #maxKeys: number;

  constructor(
    perQueryIntervalMs: number,
    maxPerCycle: number,
    failureTtlMs: number,
    maxKeys = 100_000,
  ) {
    this.#perQueryIntervalMs = perQueryIntervalMs;
    this.#maxPerCycle = maxPerCycle;
    this.#failureTtlMs = failureTtlMs;
    this.#maxKeys = maxKeys;
  }

  /** Whether the statement may be explained now; spends one of the cycle's EXPLAINs if so. */
  take(target: string, database: string, queryId: string, cycle: number, now: number): boolean {
    const key = `${target}/${database}/${queryId}`;
    if ((this.#nextAllowed.get(key) ?? 0) > now) return false;
    let spent = this.#cycles.get(target);
    if (spent === undefined || spent.cycle !== cycle) {
      spent = { cycle, spent: 0 };
      this.#cycles.set(target, spent);
    }
    if (spent.spent >= this.#maxPerCycle) return false;
    spent.spent++;
    return true;
  }

  /** Records the outcome; a permission error expires sooner (a grant may follow soon). */
  done(
    target: string,
    database: string,
    queryId: string,
    now: number,
    outcome: 'ok' | 'failed' | 'denied',
  ): void {
    const key = `${target}/${database}/${queryId}`;
    const wait =
      outcome === 'ok'
        ? this.#perQueryIntervalMs
        : outcome === 'denied'
          ? this.#failureTtlMs / 10
          : this.#failureTtlMs;
    this.#nextAllowed.delete(key);
    this.#nextAllowed.set(key, now + wait);
    if (this.#nextAllowed.size > this.#maxKeys) {
      const oldest = this.#nextAllowed.keys().next().value;
      if (oldest !== undefined) this.#nextAllowed.delete(oldest);
    }
  }

  /** A target's "not before" times as plain JSON, so a one-shot process honours them too. */
  saveState(target: string, now: number): Record<string, number> {
    const prefix = `${target}/`;
    const out: Record<string, number> = {};
    for (const [key, until] of this.#nextAllowed) {
      if (until > now && key.startsWith(prefix)) out[key.slice(prefix.length)] = until;
    }
    return out;
  }

  /** Takes saved times back; anything not a number is skipped. */
  restoreState(target: string, saved: unknown): void {
    if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return;
    for (const [key, until] of Object.entries(saved as Record<string, unknown>)) {
      if (typeof until === 'number' && Number.isFinite(until)) {
        this.#nextAllowed.set(`${target}/${key}`, until);
      }
    }
  }

  forgetTarget(target: string): void {
    this.#cycles.delete(target);
    for (const key of this.#nextAllowed.keys()) {
      if (key.startsWith(`${target}/`)) this.#nextAllowed.delete(key);
    }
  }
}
