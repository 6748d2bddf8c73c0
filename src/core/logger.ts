/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logging seam. The core never imports a logging library; the CLI supplies one that writes
 * to stderr (stdout belongs to NRI payloads and JSON output).
 */
export interface Logger {
  /** Detail useful only when diagnosing. */
  debug(msg: string, fields?: LogFields): void;
  /** Normal lifecycle events. */
  info(msg: string, fields?: LogFields): void;
  /** Something degraded but the collector carries on. */
  warn(msg: string, fields?: LogFields): void;
  /** Something failed; the collector still carries on unless it says otherwise. */
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
}

/** Discards everything; for library use and tests that do not look at logs. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
