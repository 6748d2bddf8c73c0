import type { StoredColumn } from './metrics-tables.js';

/** COPY text format's NULL. */
export const COPY_NULL = '\\N';

/**
 * Encodes one value of a column to a COPY text field: the escaped text, `\N` for null or
 * undefined, or `undefined` when the value does not fit the column (the caller stores NULL and
 * counts the value as coerced).
 */
export type FieldEncoder = (value: unknown) => string | undefined;

const INT8_MAX = 9_223_372_036_854_775_807n;
const INT8_MIN = -INT8_MAX - 1n;
const INTEGER_TEXT = /^-?\d{1,19}$/;
// A decimal string this long (sign included) has at most 15 digits: exact as a double.
const SAFE_INTEGER_TEXT_LENGTH = 15;
// PostgreSQL text cannot hold NUL; COPY text format escapes the delimiter, newlines and itself.
const COPY_SPECIAL = /[\\\n\r\t\0]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t\0]/g;

/**
 * One field in COPY text format, or `\N`. A value that does not fit its column becomes NULL
 * (and `onCoerce` hears of it) rather than failing the whole COPY for every target.
 */
export function copyField(
  value: unknown,
  type: StoredColumn['type'],
  onCoerce: () => void,
): string {
  const field = fieldEncoder(type)(value);
  if (field === undefined) {
    onCoerce();
    return COPY_NULL;
  }
  return field;
}

/** The encoder of a column type; choose it once per column, not per value. */
export function fieldEncoder(type: StoredColumn['type']): FieldEncoder {
  switch (type) {
    case 'int4':
    case 'int8':
      return encodeInteger;
    case 'float8':
      return encodeFloat;
    case 'bool':
      return encodeBool;
    case 'timestamptz':
      return encodeTimestamp;
    case 'jsonb':
      return encodeJson;
    case 'text':
      return encodeText;
  }
}

/** Escapes text for COPY text format: backslash, newline, CR and tab escaped, NUL dropped. */
export function escapeCopy(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIAL_ALL, escapeChar) : text;
}

function escapeChar(c: string): string {
  switch (c) {
    case '\\':
      return '\\\\';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return '';
  }
}

// Integers of any int8 value; int4 columns are held to the same range (the server rejects more).
function encodeInteger(value: unknown): string | undefined {
  if (value === null || value === undefined) return COPY_NULL;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return safeIntegerText(value);
    return Number.isInteger(value) ? bigIntText(BigInt(value)) : undefined;
  }
  if (typeof value === 'string') {
    if (!INTEGER_TEXT.test(value)) return undefined;
    // The canonical form, as BigInt gives it: no leading zeros, '-0' is '0'.
    if (value.length <= SAFE_INTEGER_TEXT_LENGTH) return String(Number(value));
    return bigIntText(BigInt(value));
  }
  if (typeof value === 'bigint') return bigIntText(value);
  return undefined;
}

/**
 * String(n) of a safe integer. V8 prints 32-bit integers far faster than other doubles, so a
 * larger one is printed as two halves below 10^8 (`%` and the division are exact here).
 */
function safeIntegerText(n: number): string {
  // String(-0) is '0', as BigInt(-0) is 0n.
  if ((n | 0) === n) return String(n);
  const abs = Math.abs(n);
  const low = String(abs % 1e8);
  const high = (abs - (abs % 1e8)) / 1e8;
  return `${n < 0 ? '-' : ''}${high}${EIGHT_ZEROS.slice(low.length)}${low}`;
}

const EIGHT_ZEROS = '00000000';

function bigIntText(value: bigint): string | undefined {
  return value > INT8_MAX || value < INT8_MIN ? undefined : value.toString();
}

function encodeFloat(value: unknown): string | undefined {
  if (value === null || value === undefined) return COPY_NULL;
  if (typeof value === 'number') return floatText(value);
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (!Number.isNaN(n)) return floatText(n);
  }
  return undefined;
}

function floatText(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

function encodeBool(value: unknown): string | undefined {
  if (value === null || value === undefined) return COPY_NULL;
  if (value === true || value === 't' || value === 'true') return 't';
  if (value === false || value === 'f' || value === 'false') return 'f';
  return undefined;
}

/** Any string `Date.parse` accepts, as is; toISOString's form is recognised without parsing. */
function encodeTimestamp(value: unknown): string | undefined {
  if (value === null || value === undefined) return COPY_NULL;
  if (typeof value !== 'string') return undefined;
  if (isIsoInstant(value)) return value;
  return Number.isNaN(Date.parse(value)) ? undefined : escapeCopy(value);
}

function encodeJson(value: unknown): string | undefined {
  if (value === null || value === undefined) return COPY_NULL;
  let text: string | undefined;
  if (typeof value === 'string') {
    try {
      JSON.parse(value);
      text = value;
    } catch {
      text = JSON.stringify(value);
    }
  } else {
    // undefined for a function or symbol: not storable.
    text = JSON.stringify(value);
  }
  return text === undefined ? undefined : escapeCopy(text);
}

function encodeText(value: unknown): string | undefined {
  if (value === null || value === undefined) return COPY_NULL;
  if (typeof value === 'string') return escapeCopy(value);
  // undefined for a function or symbol: not storable.
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? undefined : escapeCopy(text);
}

// toISOString's form for years 0–9999, with month 01–12, day 01–31, hour 00–23, minute and
// second 00–59: a shape `Date.parse` always accepts (it takes day 31 of any month too).
const ISO_INSTANT =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** Whether `text` is `YYYY-MM-DDTHH:MM:SS.sssZ`, valid without asking `Date.parse`. */
export function isIsoInstant(text: string): boolean {
  return ISO_INSTANT.test(text);
}
