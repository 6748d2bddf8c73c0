import { describe, expect, it } from 'vitest';
import {
  WAIT_EVENTS_VIEW_MIN_MAJOR,
  waitCategory,
  waitEventDescription,
  waitEventsSql,
} from '../../src/collectors/ash/wait-event-catalog.js';
import {
  WAIT_EVENT_DESCRIPTIONS,
  WAIT_EVENT_RENAMES,
} from '../../src/collectors/ash/wait-event-descriptions.js';

describe('wait categories (nri-postgresql)', () => {
  it.each([
    ['Lock', 'Locks'],
    ['LWLock', 'Locks'],
    ['IO', 'Disk IO'],
    ['CPU', 'CPU'],
    ['IdleTx', 'Other'],
    ['Client', 'Other'],
    ['IPC', 'Other'],
    ['Timeout', 'Other'],
    ['Activity', 'Other'],
    ['BufferPin', 'Other'],
    ['Extension', 'Other'],
    ['lock', 'Other'],
  ])('%s → %s', (type, category) => {
    expect(waitCategory(type)).toBe(category);
  });
});

describe('shipped wait-event descriptions', () => {
  it.each([
    ['IO', 'DataFileRead', /read from a relation data file/],
    ['Lock', 'relation', /lock on a relation/],
    ['Lock', 'transactionid', /transaction to finish/],
    ['LWLock', 'WALWrite', /WAL buffers to be written/],
    ['Client', 'ClientRead', /read data from the client/],
  ])('%s:%s', (type, name, text) => {
    expect(waitEventDescription(type, name)).toMatch(text);
  });

  it.each([
    ['LWLock', 'WALWriteLock', 'LWLock', 'WALWrite'],
    ['LWLock', 'buffer_mapping', 'LWLock', 'BufferMapping'],
    ['LWLock', 'clog', 'LWLock', 'XactBuffer'],
    ['LWLock', 'buffer_io', 'IPC', 'BufferIo'],
    ['IO', 'WALWrite', 'IO', 'WalWrite'],
    ['IO', 'BufFileRead', 'IO', 'BuffileRead'],
    ['IPC', 'Hash/Batch/Allocating', 'IPC', 'HashBatchAllocate'],
    ['IPC', 'HashGrowBatchesAllocate', 'IPC', 'HashGrowBatchesReallocate'],
    ['Lock', 'speculative token', 'Lock', 'spectoken'],
  ])('old name %s:%s reads as %s:%s', (oldType, oldName, type, name) => {
    const description = waitEventDescription(oldType, oldName);
    expect(description).toBeDefined();
    expect(description).toBe(waitEventDescription(type, name));
    expect(WAIT_EVENT_RENAMES.get(`${oldType}:${oldName}`)).toBe(`${type}:${name}`);
  });

  it('every rename points at a shipped current name', () => {
    for (const [oldKey, newKey] of WAIT_EVENT_RENAMES) {
      expect(WAIT_EVENT_RENAMES.has(newKey), newKey).toBe(false);
      expect(WAIT_EVENT_DESCRIPTIONS.get(oldKey), oldKey).toBe(WAIT_EVENT_DESCRIPTIONS.get(newKey));
    }
  });

  it('describes our CPU and IdleTx labels', () => {
    expect(waitEventDescription('CPU', 'CPU')).toMatch(/^Running on CPU/);
    expect(waitEventDescription('IdleTx', 'IdleTx')).toMatch(/^Idle in transaction/);
  });

  it('knows nothing of extension-defined or made-up events', () => {
    expect(waitEventDescription('Extension', 'MyExtensionWait')).toBeUndefined();
    expect(waitEventDescription('IO', 'NoSuchEvent')).toBeUndefined();
  });

  it('reads the live view from PostgreSQL 17', () => {
    expect(WAIT_EVENTS_VIEW_MIN_MAJOR).toBe(17);
    expect(waitEventsSql()).toBe('SELECT type, name, description FROM pg_catalog.pg_wait_events');
  });
});
