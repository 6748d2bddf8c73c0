import { describe, expect, inject, it } from 'vitest';
import { maskConninfo } from '../../src/collectors/probes/pg-settings.js';
import { queryOnce } from '../helpers/fresh-database.js';

const pgUrl = inject('pgUrl');

describe('pg_settings masks passwords in connection strings', () => {
  it.each([
    [
      'host=primary port=5432 user=rep password=S3cret! sslmode=require',
      'host=primary port=5432 user=rep password=******** sslmode=require',
    ],
    ["host=p password='two words' user=rep", 'host=p password=******** user=rep'],
    ["password = 'it''s\\'quoted' host=p", 'password = ******** host=p'],
    ['host=p user=rep', 'host=p user=rep'],
  ])('%s', async (conninfo, masked) => {
    const rows = await queryOnce<{ v: string; other: string }>(
      pgUrl,
      `SELECT ${maskConninfo('setting')} AS v,
              (SELECT ${maskConninfo('setting')} FROM (VALUES ('work_mem', $1::text)) o(name, setting)) AS other
         FROM (VALUES ('primary_conninfo', $1::text)) v(name, setting)`,
      [conninfo],
    );
    expect(rows[0]?.v).toBe(masked);
    // Other settings are never touched.
    expect(rows[0]?.other).toBe(conninfo);
  });
});
