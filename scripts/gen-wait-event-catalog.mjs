#!/usr/bin/env node
// Regenerates src/collectors/ash/wait-event-descriptions.ts from PostgreSQL's own
// pg_wait_events (17 and 18, from the test/matrix binaries), plus the names PostgreSQL 12-16
// used before renames. Servers older than 17 have no such view, so the collector ships this.
import { execFileSync, spawn } from 'node:child_process';
import { cp, chown, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const matrixDir = path.join(root, 'test', 'matrix', 'node_modules');
const output = path.join(root, 'src', 'collectors', 'ash', 'wait-event-descriptions.ts');
// Oldest first: a later major's text wins where both have the event.
const MAJORS = [17, 18];
const stringsCache = new Map();

/**
 * Names 12-16 spelled with other capitals: 17 derives names from the symbols in
 * wait_event_names.txt (BufFileRead became BuffileRead). Each group is [majors, ...old keys];
 * the new key is the one current key that matches case-insensitively.
 */
const CASE_RENAMED_IN_17 = [
  ['12-16', 'Activity:AutoVacuumMain', 'Activity:BgWriterHibernate', 'Activity:BgWriterMain'],
  ['12-16', 'Activity:SysLoggerMain', 'Client:GSSOpenServer', 'Client:SSLOpenServer'],
  ['12-16', 'Client:LibPQWalReceiverConnect', 'Client:LibPQWalReceiverReceive'],
  ['12-16', 'Client:WalSenderWaitForWAL', 'IO:BufFileRead', 'IO:BufFileWrite'],
  ['12-16', 'IO:DSMFillZeroWrite', 'IO:LockFileAddToDataDirRead', 'IO:LockFileAddToDataDirSync'],
  ['12-16', 'IO:LockFileAddToDataDirWrite', 'IO:LockFileReCheckDataDirRead'],
  ['12-16', 'IO:SLRUFlushSync', 'IO:SLRURead', 'IO:SLRUSync', 'IO:SLRUWrite'],
  ['12-16', 'IO:WALBootstrapSync', 'IO:WALBootstrapWrite', 'IO:WALCopyRead', 'IO:WALCopySync'],
  ['12-16', 'IO:WALCopyWrite', 'IO:WALInitSync', 'IO:WALInitWrite', 'IO:WALRead', 'IO:WALSync'],
  ['12-16', 'IO:WALSyncMethodAssign', 'IO:WALWrite', 'IO:WALSenderTimelineHistoryRead'],
  ['12-16', 'IPC:BgWorkerShutdown', 'IPC:BgWorkerStartup', 'IPC:ProcArrayGroupUpdate'],
  ['14-16', 'IO:BaseBackupRead', 'IO:BufFileTruncate', 'IPC:BufferIO'],
  ['15-16', 'IO:BaseBackupSync', 'IO:BaseBackupWrite'],
  ['16', 'IO:DSMAllocate'],
];

/**
 * Names PostgreSQL 12-16 reported for events that 17/18 call otherwise, as [old key, new key,
 * majors that reported the old name]. Each pair is a rename of the same wait (the release notes
 * and the renaming commits say so), and every old name is checked below against the strings of
 * the 12-16 binaries. Events that were removed (PgStatMain, Checkpoint, OldSnapshotTimeMap,
 * LogicalChanges*, LogicalSubxact*) or replaced by something not plainly the same wait
 * (RelationMapSync -> RelationMapReplace) are left out rather than guessed at.
 */
const OLD_NAMES = [
  // 13 dropped the "Lock" suffix of the individual LWLocks' names.
  ...[
    ...['ShmemIndex', 'OidGen', 'XidGen', 'ProcArray', 'SInvalRead', 'SInvalWrite'],
    ...['WALBufMapping', 'WALWrite', 'ControlFile', 'MultiXactGen', 'RelCacheInit'],
    ...['CheckpointerComm', 'TwoPhaseState', 'TablespaceCreate', 'BtreeVacuum', 'AddinShmemInit'],
    ...['Autovacuum', 'AutovacuumSchedule', 'SyncScan', 'RelationMapping', 'SerializableXactHash'],
    ...['SerializableFinishedList', 'SyncRep', 'BackgroundWorker', 'DynamicSharedMemoryControl'],
    ...['AutoFile', 'ReplicationSlotAllocation', 'ReplicationSlotControl', 'CommitTs'],
    ...['ReplicationOrigin', 'MultiXactTruncation', 'LogicalRepWorker', 'WrapLimitsVacuum'],
    'NotifyQueueTail',
  ].map((name) => [`LWLock:${name}Lock`, `LWLock:${name}`, '12']),
  // 13 renamed the SLRU locks (clog -> Xact, async -> Notify, oldserxid -> Serial, ...).
  ['LWLock:CLogControlLock', 'LWLock:XactSLRU', '12'],
  ['LWLock:CLogTruncationLock', 'LWLock:XactTruncation', '12'],
  ['LWLock:CommitTsControlLock', 'LWLock:CommitTsSLRU', '12'],
  ['LWLock:SubtransControlLock', 'LWLock:SubtransSLRU', '12'],
  ['LWLock:MultiXactOffsetControlLock', 'LWLock:MultiXactOffsetSLRU', '12'],
  ['LWLock:MultiXactMemberControlLock', 'LWLock:MultiXactMemberSLRU', '12'],
  ['LWLock:AsyncCtlLock', 'LWLock:NotifySLRU', '12'],
  ['LWLock:AsyncQueueLock', 'LWLock:NotifyQueue', '12'],
  ['LWLock:OldSerXidLock', 'LWLock:SerialSLRU', '12'],
  ['LWLock:SerializablePredicateLockListLock', 'LWLock:SerializablePredicateList', '12'],
  // 13 renamed the built-in LWLock tranches (same tranche ids, CamelCase names).
  ['LWLock:clog', 'LWLock:XactBuffer', '12'],
  ['LWLock:commit_timestamp', 'LWLock:CommitTsBuffer', '12'],
  ['LWLock:subtrans', 'LWLock:SubtransBuffer', '12'],
  ['LWLock:multixact_offset', 'LWLock:MultiXactOffsetBuffer', '12'],
  ['LWLock:multixact_member', 'LWLock:MultiXactMemberBuffer', '12'],
  ['LWLock:async', 'LWLock:NotifyBuffer', '12'],
  ['LWLock:oldserxid', 'LWLock:SerialBuffer', '12'],
  ['LWLock:wal_insert', 'LWLock:WALInsert', '12'],
  ['LWLock:buffer_content', 'LWLock:BufferContent', '12'],
  ['LWLock:replication_origin', 'LWLock:ReplicationOriginState', '12'],
  ['LWLock:replication_slot_io', 'LWLock:ReplicationSlotIO', '12'],
  ['LWLock:proc', 'LWLock:LockFastPath', '12'],
  ['LWLock:buffer_mapping', 'LWLock:BufferMapping', '12'],
  ['LWLock:lock_manager', 'LWLock:LockManager', '12'],
  ['LWLock:predicate_lock_manager', 'LWLock:PredicateLockManager', '12'],
  ['LWLock:parallel_query_dsa', 'LWLock:ParallelQueryDSA', '12'],
  ['LWLock:session_dsa', 'LWLock:PerSessionDSA', '12'],
  ['LWLock:session_record_table', 'LWLock:PerSessionRecordType', '12'],
  ['LWLock:session_typmod_table', 'LWLock:PerSessionRecordTypmod', '12'],
  ['LWLock:shared_tuplestore', 'LWLock:SharedTupleStore', '12'],
  ['LWLock:tbm', 'LWLock:SharedTidBitmap', '12'],
  ['LWLock:parallel_append', 'LWLock:ParallelAppend', '12'],
  ['LWLock:parallel_hash_join', 'LWLock:ParallelHashJoin', '12'],
  ['LWLock:serializable_xact', 'LWLock:PerXactPredicateList', '12'],
  // Waiting for a buffer's I/O: an LWLock tranche until 14 made it a condition variable.
  ['LWLock:buffer_io', 'IPC:BufferIo', '12'],
  ['LWLock:BufferIO', 'IPC:BufferIo', '13'],
  // 13 gave the parallel hash join barriers and two others consistent names.
  ['IPC:ClogGroupUpdate', 'IPC:XactGroupUpdate', '12'],
  ['IPC:Hash/Batch/Allocating', 'IPC:HashBatchAllocate', '12'],
  ['IPC:Hash/Batch/Electing', 'IPC:HashBatchElect', '12'],
  ['IPC:Hash/Batch/Loading', 'IPC:HashBatchLoad', '12'],
  ['IPC:Hash/Build/Allocating', 'IPC:HashBuildAllocate', '12'],
  ['IPC:Hash/Build/Electing', 'IPC:HashBuildElect', '12'],
  ['IPC:Hash/Build/HashingInner', 'IPC:HashBuildHashInner', '12'],
  ['IPC:Hash/Build/HashingOuter', 'IPC:HashBuildHashOuter', '12'],
  ['IPC:Hash/GrowBatches/Allocating', 'IPC:HashGrowBatchesReallocate', '12'],
  ['IPC:Hash/GrowBatches/Deciding', 'IPC:HashGrowBatchesDecide', '12'],
  ['IPC:Hash/GrowBatches/Electing', 'IPC:HashGrowBatchesElect', '12'],
  ['IPC:Hash/GrowBatches/Finishing', 'IPC:HashGrowBatchesFinish', '12'],
  ['IPC:Hash/GrowBatches/Repartitioning', 'IPC:HashGrowBatchesRepartition', '12'],
  ['IPC:Hash/GrowBuckets/Allocating', 'IPC:HashGrowBucketsReallocate', '12'],
  ['IPC:Hash/GrowBuckets/Electing', 'IPC:HashGrowBucketsElect', '12'],
  ['IPC:Hash/GrowBuckets/Reinserting', 'IPC:HashGrowBucketsReinsert', '12'],
  // 12's own RecoveryWalStream (the retry-interval sleep) became
  // Timeout:RecoveryRetrieveRetryInterval and RecoveryWalAll took its name, so a 12 server's
  // RecoveryWalStream reads with the 13+ text.
  ['Activity:RecoveryWalAll', 'Activity:RecoveryWalStream', '12'],
  ['Lock:speculative token', 'Lock:spectoken', '12'],
  // 16 renamed these two ("allocate" -> "reallocate"), same description.
  ['IPC:HashGrowBatchesAllocate', 'IPC:HashGrowBatchesReallocate', '13-15'],
  ['IPC:HashGrowBucketsAllocate', 'IPC:HashGrowBucketsReallocate', '13-15'],
];

// 17/18 to read the view; 12-16 to check the old names against.
if (![12, 13, 14, 15, 16, ...MAJORS].every((m) => existsSync(path.join(matrixDir, `pg${m}`)))) {
  console.error('PostgreSQL binaries missing: run `cd test/matrix && npm ci` first');
  process.exit(1);
}

/** @type {Map<string, string>} */
const descriptions = new Map();
/** @type {string[]} */
const versions = [];
for (const major of MAJORS) {
  const { version, rows } = await readWaitEvents(path.join(matrixDir, `pg${major}`));
  versions.push(version);
  const keys = new Set(rows.map((row) => `${row.type}:${row.name}`));
  const added = [...keys].filter((key) => !descriptions.has(key));
  const gone = [...descriptions.keys()].filter((key) => !keys.has(key));
  let reworded = 0;
  for (const row of rows) {
    const key = `${row.type}:${row.name}`;
    if (descriptions.has(key) && descriptions.get(key) !== row.description) reworded += 1;
    descriptions.set(key, row.description);
  }
  console.log(
    `PostgreSQL ${version}: ${rows.length} wait events` +
      (versions.length === 1
        ? ''
        : `; new ${added.length}, reworded ${reworded}, no longer listed ${gone.length}`),
  );
  if (process.env.VERBOSE) console.log({ added, gone });
}
const current = [...descriptions.keys()].sort(compareKeys);

const lowerCase = new Map(current.map((key) => [key.toLowerCase(), key]));
const oldNames = [
  ...CASE_RENAMED_IN_17.flatMap(([majors, ...keys]) =>
    keys.map((oldKey) => [oldKey, lowerCase.get(oldKey.toLowerCase()), majors]),
  ),
  ...OLD_NAMES,
];
const renamed = [];
for (const [oldKey, newKey, majors] of oldNames) {
  const description = newKey === undefined ? undefined : descriptions.get(newKey);
  if (description === undefined) throw new Error(`${oldKey}: no current event ${newKey ?? ''}`);
  if (descriptions.has(oldKey)) throw new Error(`${oldKey} is still a current event`);
  // A typo here would ship a name no server reports: each old name must be in those binaries.
  const name = oldKey.slice(oldKey.indexOf(':') + 1);
  for (const major of expandMajors(majors)) {
    if (!(await binaryStrings(major)).some((s) => s.endsWith(name))) {
      throw new Error(`${oldKey}: "${name}" is not a string in the PostgreSQL ${major} binary`);
    }
  }
  renamed.push({ oldKey, newKey, majors, description });
}
renamed.sort((a, b) => compareKeys(a.oldKey, b.oldKey));

const lines = [
  '// Generated by scripts/gen-wait-event-catalog.mjs (npm run gen:wait-events) from',
  "// PostgreSQL's own pg_wait_events view, plus the names 12-16 used before renames (a table",
  '// in that script). Do not edit by hand: change the script and rerun it.',
  '',
  '/** The server versions whose `pg_wait_events` this table was generated from. */',
  `export const WAIT_EVENT_SOURCE_VERSIONS: readonly string[] = ${JSON.stringify(versions)};`,
  '',
  '/**',
  ' * Wait-event descriptions keyed `Type:Name`, for servers without `pg_wait_events` (before',
  ' * 17). Old names (PostgreSQL 12-16) carry the description of the name that replaced them.',
  ' */',
  'export const WAIT_EVENT_DESCRIPTIONS: ReadonlyMap<string, string> = new Map([',
  ...current.map((key) => `  [${quote(key)}, ${quote(descriptions.get(key))}],`),
  '  // Names older majors reported, with the text of the name that replaced them.',
  ...renamed.map((r) => `  [${quote(r.oldKey)}, ${quote(r.description)}], // PG ${r.majors}`),
  ']);',
  '',
  '/** Old `Type:Name` keys (PostgreSQL 12-16) to the key the same wait has today. */',
  'export const WAIT_EVENT_RENAMES: ReadonlyMap<string, string> = new Map([',
  ...renamed.map((r) => `  [${quote(r.oldKey)}, ${quote(r.newKey)}],`),
  ']);',
  '',
];
await writeFile(output, lines.join('\n'));
execFileSync(path.join(root, 'node_modules', '.bin', 'prettier'), ['--write', output], {
  stdio: 'inherit',
});
console.log(
  `wrote ${path.relative(root, output)}: ${current.length} current events, ${renamed.length} old names`,
);

function expandMajors(majors) {
  const [from, to = from] = majors.split('-').map(Number);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * The NUL-terminated strings of a major's postgres binary. The linker merges a string into
 * the tail of a longer one, so callers look for suffixes.
 */
async function binaryStrings(major) {
  const cached = stringsCache.get(major);
  if (cached !== undefined) return cached;
  const binary = await readFile(path.join(matrixDir, `pg${major}`, 'native', 'bin', 'postgres'));
  const strings = binary
    .toString('latin1')
    .split('\0')
    .filter((s) => s.length >= 3);
  stringsCache.set(major, strings);
  return strings;
}

function quote(text) {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function compareKeys(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Starts a throwaway server from a matrix package, reads pg_wait_events, stops it. */
async function readWaitEvents(packageDir) {
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root: then run it as an existing unprivileged account.
  const runAs = asRoot ? await unprivilegedUser() : undefined;
  const dir = await mkdtemp(path.join(tmpdir(), 'pgquerylens-waitgen-'));
  try {
    let nativeDir = path.join(packageDir, 'native');
    await hydrateSymlinks(nativeDir);
    if (runAs !== undefined) {
      await chown(dir, runAs.uid, runAs.gid);
      if (!(await everyAncestorSearchable(nativeDir))) {
        const copy = path.join(dir, 'native');
        await cp(nativeDir, copy, { recursive: true, verbatimSymlinks: true });
        nativeDir = copy;
      }
    }
    const data = path.join(dir, 'data');
    await run(
      path.join(nativeDir, 'bin', 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C'],
      runAs,
    );
    const port = await freePort();
    const server = spawn(
      path.join(nativeDir, 'bin', 'postgres'),
      [
        ...['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1'],
        ...['-c', 'unix_socket_directories=', '-c', 'fsync=off'],
      ],
      {
        ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
        env: { ...process.env, LC_ALL: 'C' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    try {
      await waitUntilReady(server);
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres' });
      await client.connect();
      try {
        const version = (await client.query('SHOW server_version')).rows[0].server_version;
        const { rows } = await client.query(
          'SELECT type, name, description FROM pg_catalog.pg_wait_events ORDER BY 1, 2',
        );
        return { version: String(version).split(' ')[0], rows };
      } finally {
        await client.end();
      }
    } finally {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT');
      await exited;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function waitUntilReady(server) {
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (chunk) => {
      log += chunk.toString();
      if (log.includes('database system is ready to accept connections')) {
        // Keep draining so the pipe never fills.
        server.stderr.off('data', onData);
        server.stderr.resume();
        resolve();
      }
    };
    server.stderr.on('data', onData);
    server.once('error', reject);
    server.once('exit', (code) => reject(new Error(`postgres exited with ${code}: ${log}`)));
  });
}

function run(command, args, runAs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (chunk) => (log += chunk.toString()));
    child.stderr.on('data', (chunk) => (log += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(command)} exited with ${code}: ${log}`)),
    );
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function unprivilegedUser() {
  const users = new Map();
  for (const line of (await readFile('/etc/passwd', 'utf8')).split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (uid !== undefined && gid !== undefined) users.set(name, { uid: +uid, gid: +gid });
  }
  const user = users.get('postgres') ?? users.get('nobody');
  if (user === undefined) throw new Error('running as root and no postgres or nobody user');
  return user;
}

async function everyAncestorSearchable(dir) {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (((await stat(current)).mode & 0o001) === 0) return false;
    if (path.dirname(current) === current) return true;
  }
}

/** The package restores its library symlinks in a postinstall script that npm may skip. */
async function hydrateSymlinks(nativeDir) {
  let links;
  try {
    links = JSON.parse(await readFile(path.join(nativeDir, 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  const packageDir = path.dirname(nativeDir);
  for (const link of links) {
    const target = path.join(packageDir, link.target);
    const source = path.join(packageDir, link.source);
    await symlink(path.relative(path.dirname(target), source), target).catch(() => undefined);
  }
}
