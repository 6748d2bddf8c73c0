import type { ProbeValue } from '../../src/core/model/probe-sample.js';
import type { ProbeColumnType } from '../../src/core/probe-schema.js';

/** Whether a value read by a probe has the type its schema declares (NULL fits every type). */
export function fitsType(value: ProbeValue, type: ProbeColumnType): boolean {
  if (value === null) return true;
  switch (type) {
    case 'int8':
      return typeof value === 'number' && Number.isInteger(value);
    case 'float8':
      return typeof value === 'number';
    case 'bool':
      return typeof value === 'boolean';
    case 'timestamptz':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    case 'jsonb':
      if (typeof value !== 'string') return false;
      try {
        JSON.parse(value);
        return true;
      } catch {
        return false;
      }
    case 'text':
      return typeof value === 'string';
  }
}
