/**
 * What of a session's `pg_stat_activity.query` may leave the process. Unlike pg_stat_statements
 * texts, these carry their constants verbatim, so they are obfuscated unless configured otherwise.
 */
import { REDACTED_TEXT } from '../probes/pg-stat-statements.js';
import { obfuscateSql } from './obfuscate-sql.js';
import type { QueryTextMode } from '../../core/config/modes.js';

/** The text to report, if any, and whether it is incomplete. */
export interface ActivityText {
  readonly text?: string;
  /** The server cut the text at track_activity_query_size, or we cut it to the maximum length. */
  readonly truncated: boolean;
}

/** How an activity text is turned into a reportable one. */
export interface ActivityTextOptions {
  readonly mode: QueryTextMode;
  /** Longest text reported, in UTF-16 characters. */
  readonly maxLength: number;
  /** The server's track_activity_query_size in bytes, when known. */
  readonly trackActivityQuerySize?: number;
}

/** Even raw mode withholds texts that may contain a password (CREATE/ALTER ROLE … PASSWORD). */
const PASSWORD_PATTERN = /password|passwd/i;

/**
 * The server keeps at most track_activity_query_size − 1 bytes and cuts at a character
 * boundary, so a cut text may end up to three bytes shorter still; a little more slack is cheap.
 */
const SERVER_CUT_SLACK_BYTES = 7;

function cutByServer(raw: string, trackActivityQuerySize: number | undefined): boolean {
  if (trackActivityQuerySize === undefined) return false;
  const limit = trackActivityQuerySize - SERVER_CUT_SLACK_BYTES;
  // Each UTF-16 unit is at most 3 UTF-8 bytes; skip the byte count when it cannot reach the limit.
  if (raw.length * 3 < limit) return false;
  return Buffer.byteLength(raw, 'utf8') >= limit;
}

/** `text` cut to `maxLength` UTF-16 units, never leaving half of a surrogate pair behind. */
function cutToLength(text: string, maxLength: number): string {
  const length = Math.max(0, Math.floor(maxLength));
  if (text.length <= length) return text;
  const last = text.charCodeAt(length - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? length - 1 : length;
  return text.slice(0, end);
}

/**
 * The reportable form of a raw activity text: nothing in `none` mode or for an empty text; in
 * `raw` mode the text unless it may hold a password; otherwise the obfuscated text. The result is
 * cut to `maxLength`.
 */
export function activityText(
  raw: string | null | undefined,
  options: ActivityTextOptions,
): ActivityText {
  if (raw === null || raw === undefined || raw === '') return { truncated: false };
  const serverCut = cutByServer(raw, options.trackActivityQuerySize);
  if (options.mode === 'none') return { truncated: serverCut };
  let text: string;
  if (options.mode === 'raw') text = PASSWORD_PATTERN.test(raw) ? REDACTED_TEXT : raw;
  else text = obfuscateSql(raw);
  if (text === '') return { truncated: serverCut };
  const cut = cutToLength(text, options.maxLength);
  return { text: cut, truncated: serverCut || cut.length < text.length };
}
