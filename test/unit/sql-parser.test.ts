import { beforeAll, describe, expect, it } from 'vitest';
import {
  explainableStatement,
  fingerprintSql,
  loadSqlParser,
  scanSqlWithParser,
  sqlParserLoaded,
} from '../../src/collectors/query-text/sql-parser.js';

// Tests run in file order and the module is fresh per file, so this block sees it unloaded.
describe('before the parser is loaded', () => {
  it('reports it unloaded and refuses to guess', () => {
    expect(sqlParserLoaded()).toBe(false);
    expect(() => explainableStatement('SELECT 1')).toThrow(/not loaded.*loadSqlParser/);
    expect(fingerprintSql('SELECT 1')).toBeUndefined();
    expect(scanSqlWithParser('SELECT 1')).toBeUndefined();
  });

  it('shares one load between concurrent callers', async () => {
    const first = loadSqlParser();
    const second = loadSqlParser();
    expect(second).toBe(first);
    await Promise.all([first, second]);
    expect(sqlParserLoaded()).toBe(true);
    await loadSqlParser();
    expect(sqlParserLoaded()).toBe(true);
  });
});

describe('explainableStatement', () => {
  beforeAll(async () => {
    await loadSqlParser();
  });

  it('accepts single queries and DML, naming their kind', () => {
    const cases: [string, string][] = [
      ['SELECT 1', 'SELECT'],
      ['select a, b from t where c = $1 order by a limit $2', 'SELECT'],
      ['SELECT 1 UNION ALL SELECT 2', 'SELECT'],
      ['SELECT * FROM t FOR UPDATE', 'SELECT'],
      ['VALUES ($1, $2), ($3, $4)', 'VALUES'],
      ['TABLE t', 'TABLE'],
      ['  /* c */ (TABLE t)', 'TABLE'],
      ['SELECT * FROM t', 'SELECT'],
      ['WITH x AS (SELECT 1) SELECT * FROM x', 'WITH'],
      ['INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET a = excluded.a', 'INSERT'],
      ['INSERT INTO t SELECT * FROM u', 'INSERT'],
      ['UPDATE t SET a = $1 WHERE id = $2', 'UPDATE'],
      ['DELETE FROM t WHERE id = $1 RETURNING *', 'DELETE'],
      ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', 'MERGE'],
      ['WITH d AS (DELETE FROM t RETURNING *) INSERT INTO archive SELECT * FROM d', 'WITH'],
      ['WITH x AS (SELECT 1) UPDATE t SET a = 1', 'WITH'],
      ['WITH x AS (SELECT 1) DELETE FROM t', 'WITH'],
      ['SELECT 1;', 'SELECT'],
      ['  SELECT 1 ;; ', 'SELECT'],
    ];
    for (const [text, kind] of cases) {
      expect(explainableStatement(text), text).toEqual({ ok: true, kind });
    }
  });

  it('accepts pg_stat_statements texts with placeholders and PG18 squashed lists', () => {
    expect(explainableStatement('SELECT * FROM t WHERE a IN ($1 /*, ... */) AND b = $2')).toEqual({
      ok: true,
      kind: 'SELECT',
    });
    expect(explainableStatement('SELECT * FROM t WHERE a = ANY($1::int[])')).toEqual({
      ok: true,
      kind: 'SELECT',
    });
  });

  it('rejects several statements, a hidden second statement included', () => {
    for (const text of [
      'SELECT 1; DROP TABLE t',
      'SELECT 1; SELECT 2',
      "SELECT 'a'; DELETE FROM t",
      'SELECT 1;/* */DROP TABLE t',
    ]) {
      const verdict = explainableStatement(text);
      expect(verdict.ok, text).toBe(false);
      expect(!verdict.ok && verdict.reason).toContain('2 statements');
    }
  });

  it('accepts a semicolon hidden inside a string as one statement', () => {
    expect(explainableStatement("select 'a'';drop table t;--'")).toEqual({
      ok: true,
      kind: 'SELECT',
    });
  });

  it('rejects SELECT … INTO, even inside a set operation', () => {
    for (const text of [
      'SELECT 1 INTO t',
      'SELECT * INTO TEMP t FROM u',
      '(SELECT 1) UNION (SELECT 2 INTO x)',
    ]) {
      const verdict = explainableStatement(text);
      expect(verdict, text).toEqual({ ok: false, reason: 'SELECT … INTO creates a table' });
    }
  });

  it('rejects utility statements, naming the statement', () => {
    const cases: [string, string][] = [
      ['DROP TABLE t', 'DropStmt'],
      ['EXPLAIN SELECT 1', 'ExplainStmt'],
      ['EXPLAIN ANALYZE DELETE FROM t', 'ExplainStmt'],
      ['DO $$ BEGIN DELETE FROM t; END $$', 'DoStmt'],
      ['CALL p()', 'CallStmt'],
      ['COPY t TO STDOUT', 'CopyStmt'],
      ['SET work_mem = 1', 'VariableSetStmt'],
      ['CREATE TABLE t AS SELECT 1', 'CreateTableAsStmt'],
      ['PREPARE p AS SELECT 1', 'PrepareStmt'],
      ['EXECUTE p', 'ExecuteStmt'],
      ['VACUUM t', 'VacuumStmt'],
      ["ALTER ROLE x PASSWORD 'hunter2'", 'AlterRoleStmt'],
      ['BEGIN', 'TransactionStmt'],
      ['DECLARE c CURSOR FOR SELECT 1', 'DeclareCursorStmt'],
    ];
    for (const [text, node] of cases) {
      const verdict = explainableStatement(text);
      expect(verdict.ok, text).toBe(false);
      expect(!verdict.ok && verdict.reason, text).toBe(`${node} is not an explainable query`);
    }
  });

  it('rejects texts that do not parse, with a short parser message', () => {
    const truncated = explainableStatement("SELECT * FROM t WHERE name = 'alic");
    expect(truncated.ok).toBe(false);
    expect(!truncated.ok && truncated.reason).toMatch(
      /^does not parse: unterminated quoted string/,
    );
    const syntax = explainableStatement('SELECT FROM WHERE');
    expect(!syntax.ok && syntax.reason).toMatch(/^does not parse: syntax error/);
    const long = explainableStatement(`SELECT ${'x'.repeat(5_000)} ${'y'.repeat(5_000)}(`);
    expect(!long.ok && long.reason.length).toBeLessThanOrEqual(200);
  });

  it('rejects empty texts and texts without a statement', () => {
    for (const text of ['', '   ', ';', ' ; ; ', '-- nothing']) {
      expect(explainableStatement(text).ok, text).toBe(false);
    }
    expect(explainableStatement(';')).toEqual({ ok: false, reason: 'no statement' });
  });

  it('handles unicode and a 1 MB statement', () => {
    expect(explainableStatement('SELECT \'Zoë 🎉\' AS "ünï" FROM tàblé')).toEqual({
      ok: true,
      kind: 'SELECT',
    });
    const big = `SELECT * FROM t WHERE a IN (${Array.from({ length: 200_000 }, (_, i) => String(i)).join(',')})`;
    expect(big.length).toBeGreaterThan(1_000_000);
    expect(explainableStatement(big)).toEqual({ ok: true, kind: 'SELECT' });
    expect(explainableStatement(`${big}; DROP TABLE t`).ok).toBe(false);
  });
});

describe('fingerprintSql', () => {
  beforeAll(async () => {
    await loadSqlParser();
  });

  it('gives texts differing only in constants and layout the same fingerprint', () => {
    const a = fingerprintSql('SELECT * FROM t WHERE id = 1');
    expect(a).toMatch(/^[0-9a-f]+$/);
    expect(fingerprintSql('select *\n  from t  where id = 42 -- c')).toBe(a);
    expect(fingerprintSql('SELECT * FROM t WHERE id = $1')).toBe(a);
    expect(fingerprintSql('SELECT * FROM u WHERE id = 1')).not.toBe(a);
  });

  it('is undefined for text that does not parse', () => {
    expect(fingerprintSql("SELECT 'unterminated")).toBeUndefined();
    expect(fingerprintSql('')).toBeUndefined();
  });
});

describe('scanSqlWithParser', () => {
  beforeAll(async () => {
    await loadSqlParser();
  });

  it('returns the server scanner tokens with byte offsets', () => {
    const tokens = scanSqlWithParser("SELECT 'é', 1 -- c");
    expect(tokens?.map((token) => [token.text, token.tokenName])).toEqual([
      ['SELECT', 'UNKNOWN'],
      ["'é'", 'SCONST'],
      [',', 'ASCII_44'],
      ['1', 'ICONST'],
      ['-- c', 'SQL_COMMENT'],
    ]);
    expect(tokens?.[3]?.start).toBe(13);
  });

  it('is undefined for text the scanner rejects', () => {
    expect(scanSqlWithParser('SELECT $$open')).toBeUndefined();
    expect(scanSqlWithParser('SELECT 1abc')).toBeUndefined();
  });
});
