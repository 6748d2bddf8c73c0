import type { Logger } from './logger.js';
import type { TargetIdentity } from './model/target-identity.js';
import type { TargetConnector } from './target-connector.js';

/**
 * Background work that lives as long as a target, beside the scheduled collectors (the 1 s
 * session sampler). The application attaches a target when it is added or replaced and
 * detaches it when it goes; collectors read what the service gathered.
 */
export interface TargetService {
  /** For logs. */
  readonly name: string;
  /**
   * Starts work on a target. `enabled` answers, at any time, whether a collector is enabled
   * on it, so the service can idle while nobody consumes its data.
   */
  attach(
    target: TargetIdentity,
    connector: TargetConnector,
    enabled: (collector: string) => boolean,
    logger: Logger,
  ): void;
  /** Stops work on a target and releases its connection. */
  detach(target: string): Promise<void>;
  /** Stops everything; idempotent. */
  close(): Promise<void>;
  /**
   * What the service knows of a target as plain JSON, so a one-shot process (the NRI
   * integration, started afresh every interval) can continue where the previous one stopped.
   */
  saveState?(target: string): unknown;
  /** Takes back what saveState wrote; tolerates anything (a corrupt file), never throws. */
  restoreState?(target: string, saved: unknown): void;
  /**
   * For a one-shot run, after attach: gathers `samples` rounds of background work at once (the
   * session sampler's ticks), so the collectors that follow have something to read.
   */
  burst?(target: string, samples: number, signal: AbortSignal): Promise<void>;
}
