import { setMaxListeners } from 'node:events';
import { errorMessage } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { settlesWithin } from './timeout.js';

/** One periodic job: a collector on a target. */
export interface ScheduleEntry {
  readonly target: string;
  readonly collector: string;
  readonly intervalMs: number;
}

/** From this many targets on, new targets' phases spread over their whole interval. */
const FULL_SPREAD_TARGETS = 100;

/** What the scheduler tells a group's run besides what to run. */
export interface GroupTurn {
  /** Until the earliest next turn of any of the group's collectors, ms from the group's start. */
  readonly nextTurnInMs: number;
  /** The run is done with these collectors (their batch went out): they may run again. */
  readonly release: (collectors: readonly string[]) => void;
}

/** Runs the collectors of one target that fell due together; the signal aborts on hard stop. */
export type RunGroup = (
  target: string,
  collectors: string[],
  signal: AbortSignal,
  turn: GroupTurn,
) => Promise<void>;

export interface SchedulerOptions {
  /**
   * Fraction of the interval used as a random start offset per target (0 disables); widened
   * with the number of targets, up to the whole interval at 100.
   */
  readonly jitterRatio?: number;
  /** Entries due within this window of each other run as one group (one batch). */
  readonly coalesceMs?: number;
  readonly logger?: Logger;
  readonly random?: () => number;
}

export interface SchedulerStats {
  /** Groups started. */
  runs: number;
  /** Entries that came due while their previous run was still going, and were skipped. */
  skipped: number;
  /** Groups whose run threw (the runner should not throw; this counts bugs). */
  failed: number;
}

interface EntryState {
  entry: ScheduleEntry;
  nextDueAt: number;
  running: boolean;
  /** Turns skipped since the run in flight started; logged when the streak starts and ends. */
  skippedInRow: number;
}

/**
 * Per-(target, collector) timers with fixed-rate cadence and a random phase per target. A run
 * still in progress when its next turn comes is skipped and counted, never queued: queueing
 * behind a slow server only piles more load on it. A group's run may release the collectors it
 * is done with before its slowest one finishes, so only the slow one misses its turns.
 */
export class Scheduler {
  readonly stats: SchedulerStats = { runs: 0, skipped: 0, failed: 0 };
  readonly #byTarget = new Map<string, EntryState[]>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #hardStop = new AbortController();
  readonly #run: RunGroup;
  readonly #logger: Logger;
  readonly #jitterRatio: number;
  readonly #coalesceMs: number;
  readonly #random: () => number;
  #stopped = false;
  #started = false;

  constructor(entries: readonly ScheduleEntry[], run: RunGroup, options: SchedulerOptions = {}) {
    this.#run = run;
    // Every run in flight (one per target) listens to this signal: with more than 10 targets due
    // together Node would warn of a leak that is not one.
    setMaxListeners(0, this.#hardStop.signal);
    this.#logger = options.logger ?? silentLogger;
    this.#jitterRatio = options.jitterRatio ?? 0.1;
    this.#coalesceMs = options.coalesceMs ?? 250;
    this.#random = options.random ?? Math.random;
    for (const entry of entries) {
      checkInterval(entry);
      const list = this.#byTarget.get(entry.target) ?? [];
      list.push({ entry, nextDueAt: 0, running: false, skippedInRow: 0 });
      this.#byTarget.set(entry.target, list);
    }
  }

  /**
   * Sets the entries of one target, adding the target when new: targets and their probe
   * settings change at run time (the datastore's connections and probe_configs). A collector
   * whose interval is unchanged keeps its turn and its running state, so nothing runs twice.
   */
  setTarget(target: string, entries: readonly ScheduleEntry[]): void {
    if (entries.length === 0) {
      this.removeTarget(target);
      return;
    }
    const previous = new Map(
      (this.#byTarget.get(target) ?? []).map((s) => [s.entry.collector, s] as const),
    );
    const now = Date.now();
    const phase = Math.floor(
      this.#random() * this.#spread() * Math.min(...entries.map((e) => e.intervalMs)),
    );
    const states = entries.map((entry): EntryState => {
      checkInterval(entry);
      const old = previous.get(entry.collector);
      if (old === undefined)
        return { entry, nextDueAt: now + phase, running: false, skippedInRow: 0 };
      // The same state object, so a run in flight clears `running` on what is scheduled.
      if (old.entry.intervalMs !== entry.intervalMs) old.nextDueAt = now + phase;
      old.entry = entry;
      return old;
    });
    this.#byTarget.set(target, states);
    if (this.#started) {
      clearTimeout(this.#timers.get(target));
      this.#arm(target);
    }
  }

  /**
   * Fraction of the interval a new target's phase is drawn from: the jitter ratio, widened with
   * the fleet up to the whole interval, so a few hundred targets do not all run (and export)
   * in the same second.
   */
  #spread(): number {
    if (this.#jitterRatio === 0) return 0;
    return Math.min(1, Math.max(this.#jitterRatio, this.#byTarget.size / FULL_SPREAD_TARGETS));
  }

  /** Stops scheduling a target; a run of it in flight finishes. */
  removeTarget(target: string): void {
    clearTimeout(this.#timers.get(target));
    this.#timers.delete(target);
    this.#byTarget.delete(target);
  }

  /** Starts the timers; the first run of each target comes after its random phase. */
  start(now = Date.now()): void {
    this.#started = true;
    for (const [target, states] of this.#byTarget) {
      const shortest = Math.min(...states.map((s) => s.entry.intervalMs));
      const phase = Math.floor(this.#random() * this.#spread() * shortest);
      for (const state of states) {
        state.nextDueAt = now + phase;
      }
      this.#arm(target);
    }
  }

  /** Groups currently running. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Stops scheduling and waits for runs in flight up to `deadlineMs`; then aborts them.
   * Returns true when every run finished in time.
   */
  async stop(deadlineMs: number): Promise<boolean> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) {
      clearTimeout(timer);
    }
    this.#timers.clear();
    if (this.#inFlight.size === 0) {
      return true;
    }
    const inTime = await settlesWithin(Promise.allSettled([...this.#inFlight]), deadlineMs);
    if (!inTime) {
      this.#hardStop.abort(new Error('scheduler stop deadline passed'));
      this.#logger.warn('runs still in flight at the stop deadline were aborted', {
        inFlight: this.#inFlight.size,
        deadlineMs,
      });
    }
    return inTime;
  }

  #arm(target: string): void {
    const states = this.#byTarget.get(target);
    if (this.#stopped || states === undefined) {
      return;
    }
    const next = Math.min(...states.map((s) => s.nextDueAt));
    const timer = setTimeout(() => this.#fire(target), Math.max(0, next - Date.now()));
    this.#timers.set(target, timer);
  }

  #fire(target: string): void {
    const states = this.#byTarget.get(target) ?? [];
    const now = Date.now();
    const due: EntryState[] = [];
    const newlySkipped: string[] = [];
    for (const state of states) {
      if (state.nextDueAt > now + this.#coalesceMs) {
        continue;
      }
      // Fixed rate: the next turn is counted from when this one was due, not when it ran,
      // and turns missed while the process was busy are not made up.
      while (state.nextDueAt <= now + this.#coalesceMs) {
        state.nextDueAt += state.entry.intervalMs;
      }
      if (state.running) {
        this.stats.skipped += 1;
        state.skippedInRow += 1;
        if (state.skippedInRow === 1) newlySkipped.push(state.entry.collector);
        continue;
      }
      due.push(state);
    }
    // One line per target when runs start to overrun, not one per skipped turn: an overloaded
    // fleet would otherwise log thousands. The counter (scheduler.runs{skipped}) has them all.
    if (newlySkipped.length > 0) {
      this.#logger.warn('previous run still in progress, skipped this one', {
        target,
        collectors: newlySkipped,
      });
    }
    if (due.length > 0) {
      this.#startGroup(target, due);
    }
    this.#arm(target);
  }

  #startGroup(target: string, due: EntryState[]): void {
    for (const state of due) {
      state.running = true;
    }
    this.stats.runs += 1;
    const collectors = due.map((s) => s.entry.collector);
    // Released entries may be running again in a later group by the time this one ends: the
    // end must not clear their flag.
    const held = new Set(due);
    const release = (states: Iterable<EntryState>): void => {
      for (const state of states) {
        if (!held.delete(state)) continue;
        state.running = false;
        if (state.skippedInRow > 0) {
          this.#logger.info('overrunning run ended', {
            target,
            collector: state.entry.collector,
            skippedTurns: state.skippedInRow,
          });
          state.skippedInRow = 0;
        }
      }
    };
    const turn: GroupTurn = {
      nextTurnInMs: Math.min(...due.map((s) => s.nextDueAt)) - Date.now(),
      release: (names) => release(due.filter((s) => names.includes(s.entry.collector))),
    };
    const run = (async () => {
      try {
        await this.#run(target, collectors, this.#hardStop.signal, turn);
      } catch (err) {
        this.stats.failed += 1;
        this.#logger.error('collection run failed', { target, err: errorMessage(err) });
      } finally {
        release([...held]);
      }
    })();
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
  }
}

function checkInterval(entry: ScheduleEntry): void {
  if (!(entry.intervalMs > 0)) {
    throw new RangeError(`interval of ${entry.target}/${entry.collector} must be positive`);
  }
}
