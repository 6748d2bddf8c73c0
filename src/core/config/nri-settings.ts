import type { ParsedNri } from './config-schema.js';

/** COLLECTION_LIST's object form: database → schema → table → indexes. */
export type CollectionSelection = Readonly<
  Record<string, Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>>
>;

/** How the NRI adapter writes for the New Relic infrastructure agent. */
export interface NriSettings {
  /** 4: dimensional metrics and events; 3: nri-postgresql's sample event types. */
  readonly protocol: 3 | 4;
  /** Long-running integration (a payload per interval, `{}` heartbeats) instead of one shot. */
  readonly daemon: boolean;
  /** Directory for state between one-shot runs; the CLI picks TEMP_DIR or the OS temp dir. */
  readonly stateDir?: string;
  /** Saved rates and statement baselines older than this are ignored, ms. */
  readonly stateTtlMs: number;
  /** Session samples a one-shot run takes before collecting, and their spacing. */
  readonly burst: { readonly samples: number; readonly intervalMs: number };
  /** What to emit (METRICS / INVENTORY / EVENTS resolved: all true when none was set). */
  readonly metrics: boolean;
  readonly inventory: boolean;
  readonly events: boolean;
  /** NRI_CLUSTER / NRI_SERVICE. */
  readonly clusterName?: string;
  readonly serviceName?: string;
  /** Only these tables and indexes get sets; every one collected when absent. */
  readonly collection?: CollectionSelection;
  /** Tables left out by bare name (only without `collection`). */
  readonly ignoreTables: readonly string[];
  /** Most sets per query-performance event type. */
  readonly countThreshold: number;
  /** Individual queries of statements whose mean is not above this are left out, ms. */
  readonly responseTimeThresholdMs: number;
}

export const NRI_DEFAULTS: NriSettings = {
  protocol: 4,
  daemon: false,
  // nri-postgresql's CACHE_TTL: past it, a rate starts again from 0.
  stateTtlMs: 6 * 60_000,
  // About a second of sampling: enough to catch lock waits and busy statements without making
  // a run the agent starts every 15–30 s noticeably longer.
  burst: { samples: 10, intervalMs: 100 },
  metrics: true,
  inventory: true,
  events: true,
  ignoreTables: [],
  countThreshold: 20,
  responseTimeThresholdMs: 1,
};

export function resolveNri(parsed: ParsedNri): NriSettings {
  const d = NRI_DEFAULTS;
  return {
    protocol: parsed.protocol ?? d.protocol,
    daemon: parsed.daemon ?? d.daemon,
    ...(parsed.stateDir === undefined ? {} : { stateDir: parsed.stateDir }),
    stateTtlMs: parsed.stateTtl ?? d.stateTtlMs,
    burst: {
      samples: parsed.burst?.samples ?? d.burst.samples,
      intervalMs: parsed.burst?.interval ?? d.burst.intervalMs,
    },
    metrics: parsed.metrics ?? d.metrics,
    inventory: parsed.inventory ?? d.inventory,
    events: parsed.events ?? d.events,
    ...(parsed.clusterName === undefined ? {} : { clusterName: parsed.clusterName }),
    ...(parsed.serviceName === undefined ? {} : { serviceName: parsed.serviceName }),
    ...(parsed.collection === undefined ? {} : { collection: parsed.collection }),
    ignoreTables: parsed.ignoreTables ?? d.ignoreTables,
    countThreshold: parsed.queryMonitoring?.countThreshold ?? d.countThreshold,
    responseTimeThresholdMs:
      parsed.queryMonitoring?.responseTimeThreshold ?? d.responseTimeThresholdMs,
  };
}
