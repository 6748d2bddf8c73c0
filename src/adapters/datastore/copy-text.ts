import type { StoredColumn } from './metrics-tables.js';

const INT8_MAX = 9_223_372_036_854_775_807n;

/**
 * One field in COPY text format, or `\N`. A value that does not fit its column becomes NULL
 * (and `onCoerce` hears of it) rather than failing the whole COPY for every target.
 */
export function copyField(
  value: unknown,
  type: StoredColumn['type'],
  onCoerce: () => void,
): string {
  if (value === null || value === undefined) return '\\N';
  const text = fieldText(value, type);
  if (text === undefined) {
    onCoerce();
    return '\\N';
  }
  return escapeCopy(text);
}

function fieldText(value: unknown, type: StoredColumn['type']): string | undefined {
  switch (type) {
    case 'int4':
    case 'int8':
      return integerText(value);
    case 'float8':
      if (typeof value === 'number') return floatText(value);
      if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
        return floatText(Number(value));
      }
      return undefined;
    case 'bool':
      if (typeof value === 'boolean') return value ? 't' : 'f';
      if (value === 't' || value === 'true') return 't';
      if (value === 'f' || value === 'false') return 'f';
      return undefined;
    case 'timestamptz':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : undefined;
    case 'jsonb':
      if (typeof value === 'string') {
        try {
          JSON.parse(value);
          return value;
        } catch {
          return JSON.stringify(value);
        }
      }
      return JSON.stringify(value);
    case 'text':
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

function integerText(value: unknown): string | undefined {
  let big: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return undefined;
    big = BigInt(value);
  } else if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) {
    big = BigInt(value);
  } else if (typeof value === 'bigint') {
    big = value;
  } else {
    return undefined;
  }
  return big > INT8_MAX || big < -INT8_MAX - 1n ? undefined : big.toString();
}

function floatText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return String(value);
}

// PostgreSQL text cannot hold NUL; COPY text format escapes the delimiter, newlines and itself.
function escapeCopy(text: string): string {
  return text.replace(/[\\\n\r\t\0]/g, (c) => {
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
  });
}
