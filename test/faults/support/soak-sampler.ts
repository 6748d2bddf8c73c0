import { readdirSync, readFileSync } from 'node:fs';

/** One reading of the collector process. */
export interface SoakSample {
  /** ms since the collector started. */
  readonly atMs: number;
  readonly rssKb: number;
  readonly fds: number;
}

/** Resident memory (VmRSS, kB) and open file descriptors of `pid`, from /proc. */
export function readProcess(pid: number): { rssKb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (rss === undefined) throw new Error(`no VmRSS for ${pid}`);
  return { rssKb: Number(rss), fds: readdirSync(`/proc/${pid}/fd`).length };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** What the soak concludes from its samples. */
export interface SoakVerdict {
  readonly warmUpMs: number;
  readonly samples: number;
  /** Median RSS (MB) over the first minute after the warm-up, and over the last minute. */
  readonly rssFirstMinuteMb: number;
  readonly rssLastMinuteMb: number;
  readonly rssGrowthPct: number;
  readonly rssMaxMb: number;
  /** Open descriptors after the warm-up. */
  readonly fdMin: number;
  readonly fdMax: number;
}

/**
 * Warm-up is the first quarter of the run, at least a minute; RSS growth compares the median of
 * the minute after it with the median of the last minute; fds are judged after it.
 */
export function soakVerdict(samples: readonly SoakSample[], durationMs: number): SoakVerdict {
  const warmUpMs = Math.max(durationMs / 4, 60_000);
  const after = samples.filter((s) => s.atMs >= warmUpMs);
  const first = after.filter((s) => s.atMs < warmUpMs + 60_000).map((s) => s.rssKb);
  const last = samples.filter((s) => s.atMs >= durationMs - 60_000).map((s) => s.rssKb);
  const mb = (kb: number): number => Math.round(kb / 102.4) / 10;
  const firstMedian = median(first);
  const lastMedian = median(last);
  const fds = after.map((s) => s.fds);
  return {
    warmUpMs,
    samples: samples.length,
    rssFirstMinuteMb: mb(firstMedian),
    rssLastMinuteMb: mb(lastMedian),
    rssGrowthPct: Math.round(((lastMedian - firstMedian) / firstMedian) * 1000) / 10,
    rssMaxMb: mb(Math.max(...samples.map((s) => s.rssKb))),
    fdMin: Math.min(...fds),
    fdMax: Math.max(...fds),
  };
}

/** One full (mark-compact) garbage collection, from `node --trace-gc`. */
export interface FullGc {
  /** ms since the process started. */
  readonly atMs: number;
  /** Heap in use after it, MB: the live set at that moment. */
  readonly liveMb: number;
}

/** The mark-compact lines of `--trace-gc` output. */
export function fullGcs(traceOutput: string): FullGc[] {
  const out: FullGc[] = [];
  for (const m of traceOutput.matchAll(
    /\s(\d+) ms: Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(/g,
  )) {
    out.push({ atMs: Number(m[1]), liveMb: Number(m[2]) });
  }
  return out;
}

/**
 * The smallest live heap after a full GC in the minute after the warm-up and in the last minute
 * (the smallest is the best bound on what is really retained); undefined when a window had none.
 */
export function liveHeapFloors(
  gcs: readonly FullGc[],
  durationMs: number,
): { first?: number; last?: number } {
  const warmUpMs = Math.max(durationMs / 4, 60_000);
  const floor = (from: number, to: number): number | undefined => {
    const live = gcs.filter((g) => g.atMs >= from && g.atMs < to).map((g) => g.liveMb);
    return live.length === 0 ? undefined : Math.min(...live);
  };
  return {
    first: floor(warmUpMs, warmUpMs + 60_000),
    last: floor(durationMs - 60_000, durationMs + 1),
  };
}
