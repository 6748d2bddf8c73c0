import type { Logger } from '../core/logger.js';
import { EXIT_RUNTIME_FAILURE } from './exit-codes.js';

/**
 * SIGTERM/SIGINT handling installed before anything is started, so even a Ctrl-C during the
 * embedded server's start-up is a clean stop. The first signal resolves `requested`; a second
 * one exits at once (the embedded server's exit hook still removes its data).
 */
export class StopSignal {
  readonly requested: Promise<NodeJS.Signals>;
  #signal: NodeJS.Signals | undefined;
  readonly #onSignal: (signal: NodeJS.Signals) => void;

  constructor(logger: Logger) {
    let resolve: (signal: NodeJS.Signals) => void = () => undefined;
    this.requested = new Promise((r) => (resolve = r));
    this.#onSignal = (signal) => {
      if (this.#signal !== undefined) {
        logger.warn('second signal, exiting now', { signal });
        process.exit(EXIT_RUNTIME_FAILURE);
      }
      this.#signal = signal;
      logger.info('stopping: finishing runs in flight and flushing', { signal });
      resolve(signal);
    };
    process.on('SIGTERM', this.#onSignal);
    process.on('SIGINT', this.#onSignal);
  }

  /** True once a stop was asked for. */
  get isRequested(): boolean {
    return this.#signal !== undefined;
  }

  /** Removes the handlers. */
  dispose(): void {
    process.off('SIGTERM', this.#onSignal);
    process.off('SIGINT', this.#onSignal);
  }
}
