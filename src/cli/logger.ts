import pino from 'pino';
import type { LogFormat, LogLevel } from '../core/config/modes.js';
import type { LogFields, Logger } from '../core/logger.js';
import { redact } from '../core/redact.js';

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly bindings?: LogFields;
  /** Where lines go; stderr unless a test captures them. */
  readonly write?: (line: string) => void;
}

const writeStderr = (line: string): void => {
  process.stderr.write(line);
};

/**
 * pino, synchronous, on stderr (stdout belongs to NRI payloads and JSON output). Every line is
 * redacted as a whole just before it is written, so no field can smuggle a secret out.
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? writeStderr;
  const destination =
    options.format === 'json'
      ? { write: (line: string) => write(line) }
      : { write: (line: string) => write(toText(line)) };
  const base = pino(
    {
      level: options.level,
      base: { service: 'pgquerylens', ...options.bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: (s) => redact(s) },
    },
    destination,
  );
  return wrap(base);
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (bindings) => wrap(p.child(bindings)),
  };
}

const OMIT_IN_TEXT = new Set(['level', 'time', 'msg', 'service', 'mode', 'version']);

/** `13:37:05 WARN  message key=value …` for people watching a terminal. */
function toText(jsonLine: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  const level = (typeof record.level === 'string' ? record.level : '').toUpperCase().padEnd(5);
  const fields = Object.entries(record)
    .filter(([key]) => !OMIT_IN_TEXT.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${time} ${level} ${typeof record.msg === 'string' ? record.msg : ''}${fields === '' ? '' : ` ${fields}`}\n`;
}
