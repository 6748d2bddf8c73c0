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
  const render =
    options.format === 'json'
      ? (line: string) => line
      : options.format === 'agent'
        ? toAgent
        : toText;
  const destination = { write: (line: string) => write(render(line)) };
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
  const record = parseRecord(jsonLine);
  if (record === undefined) return jsonLine;
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  const level = (typeof record.level === 'string' ? record.level : '').toUpperCase().padEnd(5);
  return `${time} ${level} ${messageWithFields(record)}\n`;
}

/** The infrastructure SDK's level tags, which the agent parses out of an integration's stderr. */
const AGENT_LEVELS: Readonly<Record<string, string>> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERR',
};

/**
 * `[ERR] message key=value …`: the agent matches `[LEVEL] text` and files error lines under
 * integration-errors, so problems show in its log instead of vanishing.
 */
function toAgent(jsonLine: string): string {
  const record = parseRecord(jsonLine);
  if (record === undefined) return jsonLine;
  const level = AGENT_LEVELS[typeof record.level === 'string' ? record.level : ''] ?? 'INFO';
  // One line per record: the agent reads stderr line by line.
  return `[${level}] ${messageWithFields(record).replace(/[\r\n]+/g, ' ')}\n`;
}

function parseRecord(jsonLine: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function messageWithFields(record: Record<string, unknown>): string {
  const fields = Object.entries(record)
    .filter(([key]) => !OMIT_IN_TEXT.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${typeof record.msg === 'string' ? record.msg : ''}${fields === '' ? '' : ` ${fields}`}`;
}
