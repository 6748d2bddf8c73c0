import { describe, expect, it } from 'vitest';
import { storedColumns } from '../../src/adapters/datastore/metrics-tables.js';
import { builtinProbeSchemas } from '../../src/collectors/builtin-collectors.js';

describe('metrics tables', () => {
  it('every shipped probe maps to a valid table: no reserved or system column names', () => {
    for (const schema of builtinProbeSchemas()) {
      expect(() => storedColumns(schema), schema.name).not.toThrow();
    }
  });

  it('refuses a probe column that PostgreSQL reserves', () => {
    expect(() =>
      storedColumns({
        name: 'p',
        scope: 'server',
        columns: [{ name: 'xmin', type: 'text' }],
        key: [],
        retentionDays: 1,
        changeTracked: false,
      }),
    ).toThrow(/xmin is reserved/);
  });
});
