import type { V3MetricSet } from './v3-types.js';

/** nri-postgresql cuts every text in SQL with `LEFT(…, 4095)`. */
export const V3_QPM_TEXT_LIMIT = 4095;

/**
 * The first 4095 characters, counted as PostgreSQL's LEFT counts them (code points), so a
 * surrogate pair is never split in half.
 */
export function qpmText(value: string): string {
  // UTF-16 length is never below the code-point count: short strings need no walk.
  if (value.length <= V3_QPM_TEXT_LIMIT) return value;
  let end = 0;
  let count = 0;
  for (const ch of value) {
    if (count === V3_QPM_TEXT_LIMIT) break;
    end += ch.length;
    count++;
  }
  return value.slice(0, end);
}

/**
 * nri's `collection_timestamp`: `to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`,
 * seconds truncated. Undefined for a value that is not a time.
 */
export function nriCollectionTimestamp(iso: string): string | undefined {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return undefined;
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}(?::?\d{2}){0,2})?$/i;

/**
 * A timestamptz as Go's RFC3339Nano prints it in UTC (`2025-01-01T10:00:00.123456Z`: the
 * fraction without trailing zeros, none when whole). Parsed by hand rather than with
 * Date so microseconds in a PostgreSQL text survive; a zone-less value is taken as UTC.
 */
export function rfc3339(value: string): string | undefined {
  const m = TIMESTAMP.exec(value.trim());
  if (m === null) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) return undefined;
    const iso = new Date(ms).toISOString();
    return withFraction(iso.slice(0, 19), iso.slice(20, 23));
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(local);
  // Date.UTC rolls 31 February over to March; such a text is not a timestamp.
  if (
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return undefined;
  }
  const utc = local - zoneOffsetSeconds(m[8] ?? 'Z') * 1000;
  return withFraction(new Date(utc).toISOString().slice(0, 19), m[7] ?? '');
}

function withFraction(whole: string, fraction: string): string {
  const digits = fraction.slice(0, 9).replace(/0+$/, '');
  return `${whole}${digits === '' ? '' : `.${digits}`}Z`;
}

/** `Z`, `+05`, `+05:30`, `+0530`, `-00:53:28` (local mean time offsets have seconds). */
function zoneOffsetSeconds(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(/:/g, '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4) || '0');
  const seconds = Number(digits.slice(4, 6) || '0');
  return sign * (hours * 3600 + minutes * 60 + seconds);
}

/** `ROUND(x, 3)`, as nri's SQL rounds averages. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Sets a string attribute, cut to nri's length; absent (nil) values are left out. */
export function putText(set: V3MetricSet, name: string, value: string | undefined): void {
  if (value !== undefined) set[name] = qpmText(value);
}

/** Sets a gauge; absent or non-finite values are left out, as a nil pointer would be. */
export function putNumber(set: V3MetricSet, name: string, value: number | undefined): void {
  if (value !== undefined && Number.isFinite(value)) set[name] = value;
}

/**
 * Sets a gauge nri reads into an int64 (integer division in SQL, or a Go int): the fraction
 * is truncated, as the Go conversion does, so the schema's `integer` holds.
 */
export function putInteger(set: V3MetricSet, name: string, value: number | undefined): void {
  if (value !== undefined && Number.isFinite(value)) set[name] = Math.trunc(value);
}
