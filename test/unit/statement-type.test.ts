import { describe, expect, it } from 'vitest';
import { statementType } from '../../src/collectors/query-text/statement-type.js';

describe('statementType', () => {
  it('classifies by the leading keyword, in any case', () => {
    expect(statementType('SELECT 1')).toBe('SELECT');
    expect(statementType('select * from t')).toBe('SELECT');
    expect(statementType('InSeRt INTO t VALUES ($1)')).toBe('INSERT');
    expect(statementType('UPDATE t SET a = $1')).toBe('UPDATE');
    expect(statementType('DELETE FROM t WHERE id = $1')).toBe('DELETE');
  });

  it('counts TABLE and VALUES as SELECT, MERGE and utility statements as OTHER', () => {
    expect(statementType('TABLE t')).toBe('SELECT');
    expect(statementType('VALUES ($1), ($2)')).toBe('SELECT');
    expect(statementType('MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE')).toBe(
      'OTHER',
    );
    for (const text of [
      'CREATE TABLE t (id int)',
      'DROP TABLE t',
      'EXPLAIN SELECT 1',
      'COPY t TO STDOUT',
      'SET work_mem = $1',
      'BEGIN',
      'DO $$ BEGIN DELETE FROM t; END $$',
      'CALL p($1)',
      'selectx 1',
    ]) {
      expect(statementType(text), text).toBe('OTHER');
    }
  });

  it('skips whitespace, comments and opening parentheses', () => {
    expect(statementType('  \n\t-- leading comment\n/* block /* nested */ */ SELECT 1')).toBe(
      'SELECT',
    );
    expect(statementType('((SELECT 1) UNION (SELECT 2))')).toBe('SELECT');
    expect(statementType('/* DELETE */ UPDATE t SET a = 1')).toBe('UPDATE');
  });

  it('finds the main statement after a CTE list', () => {
    expect(statementType('WITH x AS (SELECT 1) DELETE FROM t')).toBe('DELETE');
    expect(statementType('WITH x AS (SELECT 1) SELECT * FROM x')).toBe('SELECT');
    expect(
      statementType('WITH d AS (DELETE FROM t RETURNING *) INSERT INTO archive SELECT * FROM d'),
    ).toBe('INSERT');
    expect(
      statementType(
        'with recursive r(n) as (select 1 union all select n + 1 from r where n < 5), ' +
          'u as materialized (update t set a = (select max(n) from r) returning *), ' +
          'v as not materialized (insert into w values (1) returning *) ' +
          'update z set b = 2',
      ),
    ).toBe('UPDATE');
    expect(statementType('WITH x AS (SELECT 1) (SELECT * FROM x)')).toBe('SELECT');
    expect(statementType('WITH x AS (SELECT 1) VALUES (1)')).toBe('SELECT');
    expect(
      statementType('WITH x AS (SELECT 1) MERGE INTO t USING x ON true WHEN MATCHED THEN DELETE'),
    ).toBe('OTHER');
    expect(statementType('(WITH x AS (SELECT 1) DELETE FROM t)')).toBe('DELETE');
  });

  it('is not fooled by keywords inside CTE bodies, strings, comments or quoted names', () => {
    expect(statementType('WITH "delete" AS (SELECT \'update\') /* insert */ SELECT 1')).toBe(
      'SELECT',
    );
    expect(statementType("WITH x AS (SELECT ')' AS p) DELETE FROM t")).toBe('DELETE');
    expect(statementType('WITH x AS (SELECT $$ ) $$) UPDATE t SET a = 1')).toBe('UPDATE');
    expect(
      statementType(
        'WITH RECURSIVE s(id) AS (SELECT 1) SEARCH DEPTH FIRST BY id SET ord DELETE FROM t',
      ),
    ).toBe('DELETE');
  });

  it('returns OTHER for empty, truncated or unparseable text without throwing', () => {
    expect(statementType('')).toBe('OTHER');
    expect(statementType('   -- only a comment')).toBe('OTHER');
    expect(statementType("'SELECT'")).toBe('OTHER');
    expect(statementType('WITH x AS (SELECT 1')).toBe('OTHER');
    expect(statementType('WITH x AS (SELECT 1)')).toBe('OTHER');
    expect(statementType('WITH')).toBe('OTHER');
    expect(statementType('WITH x')).toBe('OTHER');
    expect(statementType('/* never closed SELECT')).toBe('OTHER');
  });

  it('reads only the start of a long statement', () => {
    const text = `SELECT ${Array.from({ length: 200_000 }, (_, i) => `c${i}`).join(', ')}`;
    const started = performance.now();
    expect(statementType(text)).toBe('SELECT');
    expect(performance.now() - started).toBeLessThan(50);
  });
});
