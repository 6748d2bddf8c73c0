/** How the collector is run; see README "Modes". */
export const MODES = ['nri', 'otel', 'hybrid'] as const;
export type Mode = (typeof MODES)[number];

export const SSL_MODES = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
] as const;
export type SslMode = (typeof SSL_MODES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `agent`: the New Relic infrastructure agent's `[LEVEL] message` lines (the NRI mode's default). */
export const LOG_FORMATS = ['json', 'text', 'agent'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const OUTPUT_FORMATS = ['json', 'summary', 'file'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What happens to statement texts from pg_stat_activity before they leave the process. */
export const QUERY_TEXT_MODES = ['obfuscated', 'raw', 'none'] as const;
export type QueryTextMode = (typeof QUERY_TEXT_MODES)[number];
