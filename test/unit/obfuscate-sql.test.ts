import { beforeAll, describe, expect, it } from 'vitest';
import {
  obfuscateSql,
  obfuscateSqlWithLexer,
  obfuscateSqlWithParser,
} from '../../src/collectors/query-text/obfuscate-sql.js';
import { lexSql } from '../../src/collectors/query-text/sql-lexer.js';
import { loadSqlParser } from '../../src/collectors/query-text/sql-parser.js';

/** Well-formed statements of many shapes; both engines must agree on every one. */
const CORPUS = [
  'SELECT 1',
  "select 'a'';drop table t;--'",
  "SELECT * FROM users WHERE email = 'someone@example.com' AND id = 42",
  "select E'\\'' , E'\\\\', e'tab\\there' from t",
  "SELECT U&'d\\0061t\\+000061' UESCAPE '!', U&\"d\\0061t\" FROM t",
  "SELECT B'1010', X'FF00', b'1', x'a', N'national', n'x'",
  "SELECT $$it's a $tag$ string$$, $fn$ body $$ nested $fn$",
  'SELECT 1.5, .5, 5., 1e10, 1.5E-3, 2e+7, 0x1F, 0o17, 0b1010, 1_000_000, 1_000.000_1',
  'SELECT a FROM t WHERE x BETWEEN 1 AND 10 LIMIT 5 OFFSET 20',
  'select t1.col_2, "Mixed Case"."Col""Q", ünïcödé FROM t1 JOIN "schema".t2 ON t1.id = t2.t1_id',
  'SELECT * FROM t WHERE a IN ($1 /*, ... */)',
  'SELECT * FROM t WHERE a IN ($1, $2, $3) AND b = $4::int',
  'SELECT * FROM t WHERE a IN (1, 2, 3) AND b NOT IN (-1, +2) AND c IN (1)',
  "SELECT * FROM t WHERE tags = ANY(ARRAY['a', 'b', 'c']) AND ids && ARRAY[1,2]",
  "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z') RETURNING id",
  'INSERT INTO t VALUES ($1, $2), ($3, $4)',
  "INSERT INTO t VALUES (1, now()), (2, now()), (3, 'x')",
  "UPDATE accounts SET balance = balance - 100.25, note = 'paid' WHERE id = 7",
  "DELETE FROM sessions WHERE expires < now() - interval '1 day'",
  "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = 'x' WHEN NOT MATCHED THEN INSERT VALUES (s.id, 'y')",
  'WITH x AS (SELECT 1 AS one) SELECT one + 2 FROM x',
  "select 1 /* a /* nested */ comment */ + 2 -- trailing 'secret'\n, 3",
  "SELECT 'a'\n   'continued', 'b'  \n\t 'c', 'd' 'e'",
  "SELECT 'x' -- comment\n 'y'",
  "SELECT jsonb_col ->> 'key', jsonb_col @> '{\"a\": 1}', j #>> '{a,b}' FROM t",
  "SELECT a::text || 'suffix', b !=-1, c<>-2, d>=3, e<=4, f=>5 FROM t",
  'SELECT 1..2 AS r, arr[1:2], arr[3] FROM t',
  "ALTER ROLE app PASSWORD 'hunter2' VALID UNTIL '2030-01-01'",
  "CREATE TABLE t (id int DEFAULT 5, name text DEFAULT 'anon', CHECK (id > 0))",
  "COPY t FROM '/tmp/data.csv' WITH (FORMAT csv, DELIMITER ';')",
  "SET statement_timeout = '5s'; SET work_mem TO 65536",
  'SELECT true, false, NULL, TRUE AND NOT FALSE IS NOT NULL',
  "DO $$ BEGIN RAISE NOTICE 'hi %', 42; END $$",
  "SELECT 'ünïcödé 🎉', '日本語', \"🎉\" FROM t WHERE note = 'emoji 🎉 here'",
  "select\tcount(*)\n\nfrom\r\nt\fwhere x='y'",
  'SELECT f(1, 2, 3), g($1, 4), (1, 2) = (3, 4)',
  "SELECT * FROM t WHERE d > DATE '2024-01-01' AND ts < TIMESTAMP '2024-01-01 00:00'",
  'SELECT x FROM t WHERE y IN (SELECT z FROM u WHERE w = 9)',
  'SELECT col$1, a$b FROM t$',
  'PREPARE p(int) AS SELECT $1 + 1; EXECUTE p(5)',
];

/** Deterministic PRNG so a failing generated case can be reproduced. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  'SELECT',
  'from',
  'WHERE',
  'in',
  'IN',
  'array',
  'ARRAY',
  'VALUES',
  'values',
  'and',
  'NULL',
  'true',
  't1',
  'col_2',
  '"Quoted ""x"""',
  'U&"q\\0061"',
  'ünï',
  '$1',
  '$23',
  '(',
  ')',
  '[',
  ']',
  ',',
  ';',
  '=',
  '<>',
  '+',
  '-',
  '*',
  '/',
  '||',
  '::',
  '.',
  '@>',
  '->>',
  '!=',
  '#',
  '~~*',
  "'plain'",
  "''",
  "'it''s'",
  "E'\\'x\\\\'",
  "e'\\n'",
  "N'nat'",
  "B'101'",
  "X'1f'",
  "U&'\\0061'",
  '$$dollar $x$ text$$',
  '$tag$a$$b$tag$',
  '$a_1$ q $a_1$',
  '0',
  '42',
  '3.14',
  '.5',
  '7.',
  '1e3',
  '2.5E-7',
  '0xFF',
  '0o7',
  '0b11',
  '1_000',
  'ˈ',
  "'🎉 ü'",
  "'line\nbreak'",
];
const PUNCTUATION = new Set(['(', ')', '[', ']', ',', ';']);
const SEPARATORS = [
  ' ',
  '  ',
  '\n',
  '\t',
  ' \n ',
  ' /* c */ ',
  ' /* a /* b */ c */ ',
  ' -- note\n',
  '\r\n',
];

function generatedStatement(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const length = 1 + Math.floor(random() * 25);
  let text = pick(FRAGMENTS);
  let previous = text;
  for (let i = 1; i < length; i++) {
    const next = pick(FRAGMENTS);
    const tight = PUNCTUATION.has(previous) || PUNCTUATION.has(next);
    text += (tight && random() < 0.5 ? '' : pick(SEPARATORS)) + next;
    previous = next;
  }
  return text;
}

/** Mean microseconds per call. */
function microsPerCall(fn: () => void, calls: number): number {
  const started = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return ((performance.now() - started) * 1000) / calls;
}

describe('obfuscateSql', () => {
  it('replaces string and numeric literals and keeps the statement shape', () => {
    expect(obfuscateSql("SELECT * FROM users WHERE email = 'a@b.c' AND age > 30")).toBe(
      'SELECT * FROM users WHERE email = ? AND age > ?',
    );
    expect(obfuscateSql('UPDATE t SET x = 1.5e3, y = .5 WHERE id = 0x1F')).toBe(
      'UPDATE t SET x = ?, y = ? WHERE id = ?',
    );
  });

  it('treats a quote-doubled string with SQL inside as one literal', () => {
    expect(obfuscateSql("select 'a'';drop table t;--'")).toBe('select ?');
    expect(obfuscateSql("select 'a'';drop table t;--' from x")).toBe('select ? from x');
  });

  it('keeps both statements of a multi-statement text but hides their literals', () => {
    expect(obfuscateSql("SELECT 1; DROP TABLE t; SELECT 'x'")).toBe(
      'SELECT ?; DROP TABLE t; SELECT ?',
    );
  });

  it('honours backslash escapes in E strings only', () => {
    expect(obfuscateSql("SELECT E'\\'', 'secret' FROM t")).toBe('SELECT ?, ? FROM t');
    expect(obfuscateSql("SELECT E'it\\'s '' mine\\\\', x FROM t")).toBe('SELECT ?, x FROM t');
    // In a standard string a backslash is an ordinary character (the lexer's reading), but a
    // session with standard_conforming_strings off reads \' as a quote: obfuscateSql keeps
    // whichever reading hides more.
    expect(obfuscateSqlWithLexer("SELECT 'C:\\', x FROM t")).toBe('SELECT ?, x FROM t');
    expect(obfuscateSql("SELECT 'C:\\', x FROM t")).toBe('SELECT ?');
  });

  it('hides every kind of string constant', () => {
    expect(
      obfuscateSql(
        "SELECT B'1010', X'ff', N'name', U&'d\\0061t' UESCAPE '!', $$it's$$, $fn$a $$ b$fn$",
      ),
    ).toBe('SELECT ?, ?, ?, ? UESCAPE ?, ?, ?');
    expect(obfuscateSql("SELECT 'a'\n  'b', 'c'")).toBe('SELECT ?, ?');
  });

  it('hides every kind of number but keeps identifiers containing digits', () => {
    expect(obfuscateSql('SELECT t1.col_2, 1_000, 0o17, 0b101, 5., 1..2 FROM t1')).toBe(
      'SELECT t1.col_2, ?, ?, ?, ?, ?..? FROM t1',
    );
    expect(obfuscateSql('SELECT a$1, "t2" FROM "x3"')).toBe('SELECT a$1, "t2" FROM "x3"');
    expect(obfuscateSql('SELECT -5, x-1')).toBe('SELECT -?, x-?');
  });

  it('keeps parameters, keywords, booleans, NULL, quoted identifiers and operators', () => {
    expect(
      obfuscateSql('SELECT "Weird ""Name""", $1::int FROM t WHERE b IS NOT NULL AND c = true'),
    ).toBe('SELECT "Weird ""Name""", $1::int FROM t WHERE b IS NOT NULL AND c = true');
    expect(obfuscateSql("SELECT j->>'k', j @> '{}', a || b, x <> y FROM t")).toBe(
      'SELECT j->>?, j @> ?, a || b, x <> y FROM t',
    );
  });

  it('drops spaces inside brackets and before separators', () => {
    expect(obfuscateSql('SELECT f( a , b ) , x [ 1 ] ; SELECT ( ( 1 ) )')).toBe(
      'SELECT f(a, b), x [?]; SELECT ((?))',
    );
  });

  it('drops comments, nested ones included, and collapses whitespace', () => {
    expect(
      obfuscateSql(
        "  SELECT /* user=alice /* nested 'x' */ still comment */ a\n\n\t-- 'pii'\nFROM t  ",
      ),
    ).toBe('SELECT a FROM t');
    // A comment separates tokens, so dropping it must not glue them together.
    expect(obfuscateSql('SELECT a/**/FROM t')).toBe('SELECT a FROM t');
  });

  it('collapses constant lists but leaves parameter lists alone', () => {
    expect(obfuscateSql("SELECT * FROM t WHERE a IN (1, 2, 3) AND b in ('x','y')")).toBe(
      'SELECT * FROM t WHERE a IN (?) AND b in (?)',
    );
    expect(obfuscateSql('SELECT * FROM t WHERE a IN ($1, $2)')).toBe(
      'SELECT * FROM t WHERE a IN ($1, $2)',
    );
    expect(obfuscateSql('SELECT * FROM t WHERE a IN (-1, 2)')).toBe(
      'SELECT * FROM t WHERE a IN (-?)',
    );
    expect(obfuscateSql('SELECT ARRAY[1, 2, 3], ARRAY[$1, $2]')).toBe(
      'SELECT ARRAY[?], ARRAY[$1, $2]',
    );
    expect(obfuscateSql('SELECT f(1, 2), (1, 2)')).toBe('SELECT f(?, ?), (?, ?)');
  });

  it('keeps PG18 squashed parameter lists readable', () => {
    expect(obfuscateSql('SELECT * FROM t WHERE a IN ($1 /*, ... */)')).toBe(
      'SELECT * FROM t WHERE a IN ($1)',
    );
  });

  it('keeps one VALUES row when the others repeat it', () => {
    expect(obfuscateSql("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")).toBe(
      'INSERT INTO t VALUES (?, ?)',
    );
    expect(
      obfuscateSql('INSERT INTO t VALUES (1, ARRAY[1,2]), (2, ARRAY[3,4,5]) RETURNING id'),
    ).toBe('INSERT INTO t VALUES (?, ARRAY[?]) RETURNING id');
    expect(obfuscateSql('INSERT INTO t VALUES ($1, $2), ($3, $4)')).toBe(
      'INSERT INTO t VALUES ($1, $2), ($3, $4)',
    );
    expect(obfuscateSql("INSERT INTO t VALUES (1, 'a'), (2, DEFAULT)")).toBe(
      'INSERT INTO t VALUES (?, ?), (?, DEFAULT)',
    );
  });

  it('never lets a password literal through', () => {
    for (const text of [
      "ALTER ROLE x PASSWORD 'hunter2'",
      "CREATE ROLE x LOGIN PASSWORD 'hunter2' VALID UNTIL 'infinity'",
      "ALTER USER x WITH ENCRYPTED PASSWORD E'hunter2\\'s'",
      'ALTER ROLE x PASSWORD $$hunter2$$',
      'ALTER ROLE x PASSWORD $pw$hunter2$pw$',
      "ALTER ROLE x PASSWORD 'hunter2",
      "ALTER ROLE x PASSWORD 'hun'\n'ter2'",
      "ALTER ROLE x PASSWORD U&'hunter2'",
      "/* hunter2 */ ALTER ROLE x PASSWORD 'x' -- hunter2",
    ]) {
      const obfuscated = obfuscateSql(text);
      expect(obfuscated, text).not.toContain('hunter2');
      expect(obfuscated, text).not.toContain('hun');
    }
  });

  it('hides literals cut off by truncation', () => {
    expect(obfuscateSql("SELECT * FROM t WHERE email = 'alice@exam")).toBe(
      'SELECT * FROM t WHERE email = ?',
    );
    expect(obfuscateSql("SELECT E'abc\\'")).toBe('SELECT ?');
    expect(obfuscateSql('SELECT $$secret body')).toBe('SELECT ?');
    expect(obfuscateSql('SELECT $tag$secret $$ body $ta')).toBe('SELECT ?');
    expect(obfuscateSql('SELECT a /* comment about alice')).toBe('SELECT a');
    expect(obfuscateSql('SELECT a /* outer /* inner */ still alice')).toBe('SELECT a');
    expect(obfuscateSql('SELECT a -- alice')).toBe('SELECT a');
    expect(obfuscateSql('SELECT "unterminated ident')).toBe('SELECT "unterminated ident');
    expect(obfuscateSql('SELECT * FROM t WHERE id IN (1, 2, 3, 4')).toBe(
      'SELECT * FROM t WHERE id IN (?',
    );
    expect(obfuscateSql("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c")).toBe(
      'INSERT INTO t VALUES (?, ?)',
    );
    expect(obfuscateSql('SELECT 1.5e')).toBe('SELECT ?');
  });

  it('handles unicode text and identifiers', () => {
    expect(obfuscateSql('SELECT ünï, "🎉" FROM tàblé WHERE name = \'Zoë 🎉\' AND n = 日本')).toBe(
      'SELECT ünï, "🎉" FROM tàblé WHERE name = ? AND n = 日本',
    );
  });

  it('returns an empty string for empty, blank or comment-only text', () => {
    expect(obfuscateSql('')).toBe('');
    expect(obfuscateSql(' \n\t ')).toBe('');
    expect(obfuscateSql('-- only a comment')).toBe('');
    expect(obfuscateSql('/* only /* a */ comment */')).toBe('');
  });

  it('survives odd characters without throwing', () => {
    expect(obfuscateSql('SELECT \\x, {a}, $, ` FROM t')).toBe('SELECT \\x, {a}, $, ` FROM t');
    expect(obfuscateSql('\u0000SELECT 1\u0000')).toBe('\u0000SELECT ?\u0000');
  });

  it('obfuscates a 1 MB statement quickly and completely', () => {
    const values = Array.from({ length: 60_000 }, (_, i) => `('name${i}@example.com', ${i})`);
    const text = `INSERT INTO t (email, n) VALUES ${values.join(', ')}`;
    expect(text.length).toBeGreaterThan(1_000_000);
    const started = performance.now();
    const obfuscated = obfuscateSql(text);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(obfuscated).toBe('INSERT INTO t (email, n) VALUES (?, ?)');
  });

  it('obfuscates a 1 MB text ending inside a string', () => {
    const text = `SELECT '${'x'.repeat(1_048_576)}`;
    expect(obfuscateSql(text)).toBe('SELECT ?');
  });

  it('is fast for a typical 200-character statement', () => {
    const text =
      "SELECT u.id, u.email, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = 'someone@example.com' AND o.total > 100.50 AND o.status IN ('a','b','c') LIMIT 10";
    microsPerCall(() => obfuscateSql(text), 2_000); // warm up
    // The target is well under 50 µs; the bound is loose so a busy CI machine does not flake.
    expect(microsPerCall(() => obfuscateSql(text), 5_000)).toBeLessThan(200);
  });
});

describe('obfuscateSql with the parser loaded', () => {
  beforeAll(async () => {
    await loadSqlParser();
  });

  it('gives the same output from the server scanner and the lexer on the corpus', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(30);
    for (const text of CORPUS) {
      const viaParser = obfuscateSqlWithParser(text);
      expect(viaParser, text).toBeDefined();
      expect(obfuscateSqlWithLexer(text), text).toBe(viaParser);
    }
  });

  it('gives the same output from both on generated statements', () => {
    const random = prng(20_240_601);
    let compared = 0;
    for (let i = 0; i < 3_000; i++) {
      const text = generatedStatement(random);
      const viaParser = obfuscateSqlWithParser(text);
      // Fragment sequences are lexically valid, so the server scanner must take them all.
      expect(viaParser, text).toBeDefined();
      expect(obfuscateSqlWithLexer(text), text).toBe(viaParser);
      compared++;
    }
    expect(compared).toBe(3_000);
  });

  it('never leaves a literal fragment in generated output', () => {
    const random = prng(7);
    for (let i = 0; i < 1_000; i++) {
      const out = obfuscateSqlWithLexer(generatedStatement(random));
      for (const secret of [
        'plain',
        'it',
        'nat',
        'dollar',
        '101',
        '1f',
        '42',
        '3.14',
        '🎉',
        'note',
        'line',
      ]) {
        expect(out).not.toContain(secret);
      }
    }
  });

  it('falls back to the lexer when the server scanner rejects the text', () => {
    const truncated = "SELECT * FROM t WHERE name = 'alic";
    expect(obfuscateSqlWithParser(truncated)).toBeUndefined();
    expect(obfuscateSql(truncated, 'parser')).toBe('SELECT * FROM t WHERE name = ?');
    expect(obfuscateSql('SELECT 123abc', 'parser')).toBe('SELECT ?');
  });
});

describe('lexSql', () => {
  const kinds = (text: string): [string, string][] =>
    lexSql(text).map((token) => [token.kind, text.slice(token.start, token.end)]);

  it('splits a statement into typed tokens', () => {
    expect(kinds('SELECT "a""b", x1, $2, 1.5e3, E\'\\\'\', $q$z$q$ -- c\n/* d */;')).toEqual([
      ['identifier', 'SELECT'],
      ['whitespace', ' '],
      ['quoted-identifier', '"a""b"'],
      ['punctuation', ','],
      ['whitespace', ' '],
      ['identifier', 'x1'],
      ['punctuation', ','],
      ['whitespace', ' '],
      ['parameter', '$2'],
      ['punctuation', ','],
      ['whitespace', ' '],
      ['number', '1.5e3'],
      ['punctuation', ','],
      ['whitespace', ' '],
      ['string', "E'\\''"],
      ['punctuation', ','],
      ['whitespace', ' '],
      ['string', '$q$z$q$'],
      ['whitespace', ' '],
      ['line-comment', '-- c'],
      ['whitespace', '\n'],
      ['block-comment', '/* d */'],
      ['punctuation', ';'],
    ]);
  });

  it('marks literals left open at the end of the text as incomplete', () => {
    expect(kinds("x 'abc")).toEqual([
      ['identifier', 'x'],
      ['whitespace', ' '],
      ['incomplete', "'abc"],
    ]);
    expect(kinds('$t$ body $t')[0]).toEqual(['incomplete', '$t$ body $t']);
    expect(kinds("E'\\'")[0]).toEqual(['incomplete', "E'\\'"]);
    expect(kinds("'a'\n  'b")[0]).toEqual(['incomplete', "'a'\n  'b"]);
    expect(kinds('/* a /* b */')[0]).toEqual(['block-comment', '/* a /* b */']);
    expect(kinds('"open')[0]).toEqual(['quoted-identifier', '"open']);
  });

  it('never throws and always covers the whole text, whatever the input', () => {
    const random = prng(99);
    const alphabet = [
      "'",
      '"',
      '$',
      '$$',
      '$a$',
      '-',
      '--',
      '/*',
      '*/',
      '/',
      '*',
      '\\',
      'E',
      'U&',
      'x',
      '0',
      '.',
      '\n',
      ' ',
      '(',
      ')',
      'é',
      '🎉',
      '\u0000',
    ];
    for (let i = 0; i < 5_000; i++) {
      let text = '';
      const length = Math.floor(random() * 30);
      for (let k = 0; k < length; k++) text += alphabet[Math.floor(random() * alphabet.length)];
      const tokens = lexSql(text);
      let position = 0;
      for (const token of tokens) {
        expect(token.start).toBe(position);
        expect(token.end).toBeGreaterThan(token.start);
        position = token.end;
      }
      expect(position, text).toBe(text.length);
    }
  });
});

describe('obfuscateSql with standard_conforming_strings off', () => {
  it('hides backslash-escaped literals whichever way the session reads them', () => {
    const out = obfuscateSql("UPDATE users SET note = 'O\\'Brien card 4111', pin = '1234'");
    expect(out).not.toMatch(/Brien|4111|1234/);
    const pw = obfuscateSql("UPDATE users SET pw = 'it\\'s my secret' WHERE id = 7");
    expect(pw).not.toMatch(/secret|my/);
    expect(pw).toMatch(/UPDATE users SET pw = \? WHERE id = \?/);
  });
});
