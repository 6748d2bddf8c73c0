import type { ProbeCollector } from './define-probe.js';
import { pgExtension } from './pg-extension.js';
import { pgInvalidIndexes } from './pg-invalid-indexes.js';
import { pgSequenceExhaustion } from './pg-sequence-exhaustion.js';
import { pgStatAllIndexes } from './pg-stat-all-indexes.js';
import { pgStatAllTables } from './pg-stat-all-tables.js';
import { pgStatDatabase } from './pg-stat-database.js';
import { pgStatDatabaseConflicts } from './pg-stat-database-conflicts.js';
import { pgStatUserFunctions } from './pg-stat-user-functions.js';
import { pgStatioAllSequences } from './pg-statio-all-sequences.js';
import { pgTableBloat } from './pg-table-bloat.js';
import { pgTableWraparound } from './pg-table-wraparound.js';
import { pgUnusedIndexes } from './pg-unused-indexes.js';

/** Probes read once in every monitored database. */
export const DATABASE_PROBES: readonly ProbeCollector[] = [
  pgStatDatabase,
  pgStatDatabaseConflicts,
  pgStatAllTables,
  pgStatAllIndexes,
  pgStatioAllSequences,
  pgStatUserFunctions,
  pgExtension,
  pgTableWraparound,
  pgSequenceExhaustion,
  pgTableBloat,
  pgUnusedIndexes,
  pgInvalidIndexes,
];
