import { describe, expect, it } from 'vitest';
import {
  COPY_NULL,
  copyField,
  escapeCopy,
  fieldEncoder,
  isIsoInstant,
} from '../../src/adapters/datastore/copy-text.js';
import type { StoredColumn } from '../../src/adapters/datastore/metrics-tables.js';

type ColumnType = StoredColumn['type'];
const TYPES: readonly ColumnType[] = [
  'int4',
  'int8',
  'float8',
  'bool',
  'timestamptz',
  'jsonb',
  'text',
];

/** What a value encodes to: the COPY field and how many values were coerced to NULL. */
function encode(value: unknown, type: ColumnType): { field: string; coerced: number } {
  let coerced = 0;
  const field = copyField(value, type, () => {
    coerced++;
  });
  return { field, coerced };
}

const show = (value: unknown): string => String(value);
const ok = (field: string) => ({ field, coerced: 0 });
const coercedToNull = { field: '\\N', coerced: 1 };

// The encoding before per-column encoders, kept verbatim as the oracle the fast paths must match.
const INT8_MAX = 9_223_372_036_854_775_807n;
function referenceField(value: unknown, type: ColumnType, onCoerce: () => void): string {
  if (value === null || value === undefined) return '\\N';
  const text = referenceText(value, type);
  if (text === undefined) {
    onCoerce();
    return '\\N';
  }
  return text.replace(/[\\\n\r\t\0]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : '',
  );
}
function referenceText(value: unknown, type: ColumnType): string | undefined {
  switch (type) {
    case 'int4':
    case 'int8': {
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
    case 'float8': {
      const float = (n: number): string =>
        Number.isNaN(n)
          ? 'NaN'
          : n === Infinity
            ? 'Infinity'
            : n === -Infinity
              ? '-Infinity'
              : String(n);
      if (typeof value === 'number') return float(value);
      if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
        return float(Number(value));
      }
      return undefined;
    }
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
function reference(value: unknown, type: ColumnType): { field: string; coerced: number } {
  let coerced = 0;
  const field = referenceField(value, type, () => {
    coerced++;
  });
  return { field, coerced };
}

/** Both encodings' outcome for a value, a thrown error included (JSON of a BigInt throws). */
function outcomes(value: unknown, type: ColumnType): [unknown, unknown] {
  const outcome = (f: () => unknown): unknown => {
    try {
      return f();
    } catch (err) {
      return { threw: err instanceof Error ? err.message : String(err) };
    }
  };
  return [outcome(() => encode(value, type)), outcome(() => reference(value, type))];
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MB_TEXT = 'x'.repeat(1 << 20);
const MB_SPECIAL = `${'abc\t'.repeat(1 << 18)}\\\n\r\0é`;

/** Values of every kind, valid and not, for the comparison with the reference. */
const SAMPLE_VALUES: readonly unknown[] = [
  null,
  undefined,
  0,
  -0,
  1,
  -1,
  42,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  99_999_999,
  100_000_000,
  123_456_780_000_000 - 1,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53) - 2,
  9.2e18,
  -9.2e18,
  2 ** 63,
  -(2 ** 63),
  1e19,
  1e21,
  1e-7,
  5e-324,
  1.5,
  -2.25,
  0.1 + 0.2,
  NaN,
  Infinity,
  -Infinity,
  5n,
  -5n,
  2n ** 63n - 1n,
  2n ** 63n,
  -(2n ** 63n),
  -(2n ** 63n) - 1n,
  true,
  false,
  '',
  ' ',
  '0',
  '-0',
  '007',
  '-007',
  '42',
  '123456789012345',
  '-12345678901234',
  '1234567890123456',
  '9007199254740991',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '0000000000000000001',
  '00000000000000000001',
  '+1',
  ' 1',
  '1 ',
  '1.0',
  '1e3',
  '0x10',
  '1.25',
  ' 2.5 ',
  'NaN',
  'Infinity',
  '-Infinity',
  'infinity',
  't',
  'true',
  'f',
  'false',
  'TRUE',
  'yes',
  '2024-05-06T07:08:09.123Z',
  '0000-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '2024-02-31T00:00:00.000Z',
  '2024-13-01T00:00:00.000Z',
  '2024-01-01T24:00:00.000Z',
  '2024-01-01T24:00:00.001Z',
  '2024-01-01T23:60:00.000Z',
  '2024-01-01 00:00:00+02',
  '2024-01-01 00:00:00.123456+05:30',
  '2024-01-01T00:00:00Z',
  '2024-01-01',
  '2024-01-01\t00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '+275760-09-13T00:00:00.001Z',
  '-000001-01-01T00:00:00.000Z',
  'Jan 1 2024',
  'garbage',
  '{"a":1}',
  '[1, 2]',
  '{\n\t"a": "b\\\\c"\r\n}',
  '"quoted"',
  'not json',
  '{"a":',
  'a\tb\nc\rd\\e\0f',
  '\0',
  '\\N',
  'héllo wörld 日本 🐘',
  MB_TEXT,
  MB_SPECIAL,
  {},
  { a: 'x\ty', b: [1, null], c: 'é\0' },
  [1, 'two', { three: 3 }],
  new Date(0),
  () => 1,
  Symbol('s'),
];

describe('COPY text encoding', () => {
  it('encodes NULL and undefined as \\N in every type, without counting them as coerced', () => {
    for (const type of TYPES) {
      expect(encode(null, type), type).toEqual(ok('\\N'));
      expect(encode(undefined, type), type).toEqual(ok('\\N'));
      expect(fieldEncoder(type)(null)).toBe(COPY_NULL);
    }
  });

  it('int8 and int4: safe integers, big ones exactly, anything else NULL and coerced', () => {
    for (const type of ['int8', 'int4'] as const) {
      expect(encode(42, type)).toEqual(ok('42'));
      expect(encode(-7, type)).toEqual(ok('-7'));
      expect(encode(0, type)).toEqual(ok('0'));
      expect(encode(-0, type)).toEqual(ok('0'));
      expect(encode(2 ** 31, type)).toEqual(ok('2147483648'));
      expect(encode(-(2 ** 31) - 1, type)).toEqual(ok('-2147483649'));
      expect(encode(100_000_000, type)).toEqual(ok('100000000'));
      expect(encode(1_234_500_000_001, type)).toEqual(ok('1234500000001'));
      expect(encode(2 ** 53 - 1, type)).toEqual(ok('9007199254740991'));
      expect(encode(-(2 ** 53 - 1), type)).toEqual(ok('-9007199254740991'));
      // 2^53 + 1 is no double: as a number it is 2^53; as a string it is exact.
      expect(encode(2 ** 53 + 1, type)).toEqual(ok('9007199254740992'));
      expect(encode('9007199254740993', type)).toEqual(ok('9007199254740993'));
      expect(encode(2 ** 53 + 2, type)).toEqual(ok('9007199254740994'));
      expect(encode(9.2e18, type)).toEqual(ok('9200000000000000000'));
      expect(encode(-(2 ** 63), type)).toEqual(ok('-9223372036854775808'));
      expect(encode(2 ** 63, type)).toEqual(coercedToNull);
      expect(encode(1e21, type)).toEqual(coercedToNull);
      expect(encode('9223372036854775807', type)).toEqual(ok('9223372036854775807'));
      expect(encode('-9223372036854775808', type)).toEqual(ok('-9223372036854775808'));
      expect(encode('9223372036854775808', type)).toEqual(coercedToNull);
      expect(encode('-9223372036854775809', type)).toEqual(coercedToNull);
      expect(encode('007', type)).toEqual(ok('7'));
      expect(encode('-0', type)).toEqual(ok('0'));
      expect(encode('0000000000000000042', type)).toEqual(ok('42'));
      expect(encode('00000000000000000042', type)).toEqual(coercedToNull);
      expect(encode(5n, type)).toEqual(ok('5'));
      expect(encode(2n ** 63n, type)).toEqual(coercedToNull);
      for (const bad of [
        1.5,
        NaN,
        Infinity,
        -Infinity,
        '',
        ' 1',
        '1.0',
        '1e3',
        '+1',
        'x',
        true,
        {},
      ]) {
        expect(encode(bad, type), show(bad)).toEqual(coercedToNull);
      }
    }
  });

  it('int8: prints every safe integer as String does, across the 10^8 split', () => {
    const rand = prng(1);
    const values = [2 ** 53 - 1, 1e8 - 1, 1e8, 1e8 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32];
    for (let k = 1; k < 9e7; k = Math.floor(k * 1.7) + 1)
      values.push(k * 1e8 - 1, k * 1e8, k * 1e8 + 1);
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(rand() ** 4 * 2 ** 53));
    const encodeInt = fieldEncoder('int8');
    for (const n of values) {
      expect(encodeInt(n)).toBe(String(n));
      expect(encodeInt(-n)).toBe(n === 0 ? '0' : `-${n}`);
    }
  });

  it('float8: numbers and numeric strings, NaN and infinities spelled as PostgreSQL reads them', () => {
    expect(encode(1.5, 'float8')).toEqual(ok('1.5'));
    expect(encode(-0, 'float8')).toEqual(ok('0'));
    expect(encode(0.1 + 0.2, 'float8')).toEqual(ok('0.30000000000000004'));
    expect(encode(1e21, 'float8')).toEqual(ok('1e+21'));
    expect(encode(5e-324, 'float8')).toEqual(ok('5e-324'));
    expect(encode(2 ** 53 + 1, 'float8')).toEqual(ok('9007199254740992'));
    expect(encode('9007199254740993', 'float8')).toEqual(ok('9007199254740992'));
    expect(encode(NaN, 'float8')).toEqual(ok('NaN'));
    expect(encode(Infinity, 'float8')).toEqual(ok('Infinity'));
    expect(encode(-Infinity, 'float8')).toEqual(ok('-Infinity'));
    expect(encode('1.25', 'float8')).toEqual(ok('1.25'));
    expect(encode(' 2 ', 'float8')).toEqual(ok('2'));
    expect(encode('0x10', 'float8')).toEqual(ok('16'));
    expect(encode('Infinity', 'float8')).toEqual(ok('Infinity'));
    expect(encode('-Infinity', 'float8')).toEqual(ok('-Infinity'));
    // Number('NaN') is NaN: the string is not taken for a number, as before.
    for (const bad of ['NaN', '', '   ', 'abc', '1,5', true, 5n, {}]) {
      expect(encode(bad, 'float8'), show(bad)).toEqual(coercedToNull);
    }
  });

  it("bool: booleans and 't'/'true'/'f'/'false' only", () => {
    expect(encode(true, 'bool')).toEqual(ok('t'));
    expect(encode(false, 'bool')).toEqual(ok('f'));
    expect(encode('t', 'bool')).toEqual(ok('t'));
    expect(encode('true', 'bool')).toEqual(ok('t'));
    expect(encode('f', 'bool')).toEqual(ok('f'));
    expect(encode('false', 'bool')).toEqual(ok('f'));
    for (const bad of ['TRUE', 'yes', '1', '', 1, 0, {}]) {
      expect(encode(bad, 'bool'), show(bad)).toEqual(coercedToNull);
    }
  });

  it('timestamptz: any string Date.parse takes, as is; anything else NULL and coerced', () => {
    const iso = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123)).toISOString();
    expect(encode(iso, 'timestamptz')).toEqual(ok('2024-05-06T07:08:09.123Z'));
    expect(encode('2024-01-01 00:00:00.123456+05:30', 'timestamptz')).toEqual(
      ok('2024-01-01 00:00:00.123456+05:30'),
    );
    expect(encode('2024-01-01T00:00:00Z', 'timestamptz')).toEqual(ok('2024-01-01T00:00:00Z'));
    expect(encode('2024-02-31T00:00:00.000Z', 'timestamptz')).toEqual(
      ok('2024-02-31T00:00:00.000Z'),
    );
    expect(encode('2024-01-01T24:00:00.000Z', 'timestamptz')).toEqual(
      ok('2024-01-01T24:00:00.000Z'),
    );
    expect(encode('+275760-09-13T00:00:00.000Z', 'timestamptz')).toEqual(
      ok('+275760-09-13T00:00:00.000Z'),
    );
    // Date.parse takes a tab; COPY must not see it raw.
    expect(encode('2024-01-01\t00:00:00Z', 'timestamptz')).toEqual(ok('2024-01-01\\t00:00:00Z'));
    for (const bad of [
      '',
      'garbage',
      '2024-13-01T00:00:00.000Z',
      '2024-01-32T00:00:00.000Z',
      '2024-01-01T24:00:00.001Z',
      '2024-01-01T23:60:00.000Z',
      '+275760-09-13T00:00:00.001Z',
      new Date(0),
      0,
      true,
    ]) {
      expect(encode(bad, 'timestamptz'), show(bad)).toEqual(coercedToNull);
    }
  });

  it('timestamptz: the ISO shortcut only takes what Date.parse takes, and agrees with it', () => {
    const rand = prng(7);
    const alphabet = '0123456789-:.TZ +tz\t';
    for (let i = 0; i < 20_000; i++) {
      const base = new Date(Math.floor((rand() * 2 - 0.5) * 253_402_300_799_999)).toISOString();
      expect(isIsoInstant(base), base).toBe(base.length === 24);
      let mutated = base;
      for (let m = Math.floor(rand() * 3); m >= 0; m--) {
        const at = Math.floor(rand() * mutated.length);
        const c = alphabet[Math.floor(rand() * alphabet.length)]!;
        mutated = mutated.slice(0, at) + c + mutated.slice(at + 1);
      }
      if (isIsoInstant(mutated)) expect(Date.parse(mutated), mutated).not.toBeNaN();
      expect(encode(mutated, 'timestamptz'), mutated).toEqual(reference(mutated, 'timestamptz'));
    }
  });

  it('jsonb: JSON strings as they are, other strings and values as JSON', () => {
    expect(encode('{"a":1}', 'jsonb')).toEqual(ok('{"a":1}'));
    expect(encode('[1, 2]', 'jsonb')).toEqual(ok('[1, 2]'));
    expect(encode('"quoted"', 'jsonb')).toEqual(ok('"quoted"'));
    expect(encode('{\n\t"a": "b\\\\c"\r\n}', 'jsonb')).toEqual(
      ok('{\\n\\t"a": "b\\\\\\\\c"\\r\\n}'),
    );
    expect(encode('not json', 'jsonb')).toEqual(ok('"not json"'));
    expect(encode('', 'jsonb')).toEqual(ok('""'));
    expect(encode('{"a":', 'jsonb')).toEqual(ok('"{\\\\"a\\\\":"'));
    expect(encode({ a: 'x\ty', b: [1, null] }, 'jsonb')).toEqual(
      ok('{"a":"x\\\\ty","b":[1,null]}'),
    );
    expect(encode([1, 'two'], 'jsonb')).toEqual(ok('[1,"two"]'));
    expect(encode(5, 'jsonb')).toEqual(ok('5'));
    expect(encode(true, 'jsonb')).toEqual(ok('true'));
    expect(encode(() => 1, 'jsonb')).toEqual(coercedToNull);
    expect(encode(Symbol('s'), 'jsonb')).toEqual(coercedToNull);
    expect(() => encode(5n, 'jsonb')).toThrow(/BigInt/);
  });

  it('text: strings escaped for COPY (NUL dropped), other values as JSON', () => {
    expect(encode('plain', 'text')).toEqual(ok('plain'));
    expect(encode('', 'text')).toEqual(ok(''));
    expect(encode('a\tb\nc\rd\\e\0f', 'text')).toEqual(ok('a\\tb\\nc\\rd\\\\ef'));
    expect(encode('\0', 'text')).toEqual(ok(''));
    expect(encode('\\N', 'text')).toEqual(ok('\\\\N'));
    expect(encode('héllo wörld 日本 🐘', 'text')).toEqual(ok('héllo wörld 日本 🐘'));
    expect(encode(5, 'text')).toEqual(ok('5'));
    expect(encode(NaN, 'text')).toEqual(ok('null'));
    expect(encode(true, 'text')).toEqual(ok('true'));
    expect(encode({ a: 1 }, 'text')).toEqual(ok('{"a":1}'));
    expect(encode(() => 1, 'text')).toEqual(coercedToNull);
    expect(() => encode(5n, 'text')).toThrow(/BigInt/);
  });

  it('text: 1 MB values, with and without characters to escape', () => {
    expect(encode(MB_TEXT, 'text').field).toBe(MB_TEXT);
    const escaped = encode(MB_SPECIAL, 'text').field;
    expect(escaped).toBe(`${'abc\\t'.repeat(1 << 18)}\\\\\\n\\ré`);
    expect(escaped.length).toBe((1 << 20) + (1 << 18) + 7);
  });

  it('escapeCopy returns text without special characters unchanged', () => {
    const text = 'nothing to escape, é 日本';
    expect(escapeCopy(text)).toBe(text);
    expect(escapeCopy('\\\n\r\t\0')).toBe('\\\\\\n\\r\\t');
  });

  it('matches the previous encoding for every type and value, coerced counts included', () => {
    for (const type of TYPES) {
      for (const value of SAMPLE_VALUES) {
        const label = `${type} ${typeof value === 'symbol' ? 'symbol' : String(value).slice(0, 40)}`;
        const [actual, expected] = outcomes(value, type);
        expect(actual, label).toEqual(expected);
      }
    }
  });

  it('matches the previous encoding on random values of every type', () => {
    const rand = prng(42);
    const specials = ['\t', '\n', '\r', '\\', '\0', 'é', '日', '🐘', 'a', '1', '-', '.', ' '];
    for (let i = 0; i < 20_000; i++) {
      const kind = Math.floor(rand() * 5);
      const value =
        kind === 0
          ? Math.floor(rand() ** 4 * 2 ** 64) * (rand() < 0.3 ? -1 : 1)
          : kind === 1
            ? (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20)
            : kind === 2
              ? String(Math.floor(rand() * 10 ** Math.floor(rand() * 21))).padStart(
                  Math.floor(rand() * 21),
                  '0',
                )
              : Array.from(
                  { length: Math.floor(rand() * 12) },
                  () => specials[Math.floor(rand() * specials.length)],
                ).join('');
      for (const type of TYPES) {
        expect(encode(value, type), `${type} ${String(value)}`).toEqual(reference(value, type));
      }
    }
  });
});
