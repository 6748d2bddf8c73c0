import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { Argv, CommandModule } from 'yargs';
import { createDatastorePool } from '../adapters/datastore/datastore-pool.js';
import { DatastoreWriter, type WriteResult } from '../adapters/datastore/datastore-writer.js';
import { prepareDatastore } from '../adapters/datastore/prepare-datastore.js';
import { pendingFromBatch, type PendingBatch } from '../adapters/datastore/pending-batch.js';
import { SPOOL_PARTIAL_SUFFIX } from '../adapters/output/ndjson-spool-adapter.js';
import { builtinCollectorNames, builtinProbeSchemas } from '../collectors/builtin-collectors.js';
import { loadConfig } from '../core/config/load-config.js';
import type { ResolvedConfig } from '../core/config/resolved-config.js';
import { ConfigError, errorMessage, formatConfigIssue } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  UNIFIED_METRICS_SCHEMA_VERSION,
  type UnifiedMetrics,
} from '../core/model/unified-metrics.js';
import { redact, registerSecret } from '../core/redact.js';
import { flagsToRawConfig } from './cli-flags.js';
import { EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_USAGE } from './exit-codes.js';
import { configPathOf } from './load-cli-config.js';
import { createLogger } from './logger.js';

/** Default rows per write transaction. */
export const DEFAULT_LOAD_BATCH_ROWS = 5_000;

/** What `pgquerylens load` is given. */
export interface LoadArgs {
  /** `.ndjson.gz` files (from the spool adapter) or plain `.ndjson`, stored in this order. */
  readonly files: readonly string[];
  /** Rows per write transaction (batches are never split); default 5000. */
  readonly batchRows?: number;
  readonly config?: string;
  readonly logLevel?: string;
  readonly logFormat?: string;
}

/** Where `load` reads its environment and writes; the process's own unless a test says. */
export interface LoadIo {
  readonly env: NodeJS.ProcessEnv;
  /** Gets the summary line. */
  readonly stdout: { write(text: string): unknown };
  /** Gets configuration errors, bad lines (`file:line: reason`) and failures. */
  readonly stderr: { write(text: string): unknown };
  /** Default: the configured logger on stderr. */
  readonly logger?: Logger;
}

/** Totals of one load, as printed. */
export interface LoadSummary {
  /** Files read to the end. */
  files: number;
  /** Files that could not be read (missing, `.partial`, not gzip); each reported. */
  failedFiles: number;
  /** Valid batches read. */
  batches: number;
  /** Batches stored by this load. */
  storedBatches: number;
  /** Rows stored in metrics tables. */
  rows: number;
  /** Batches skipped because the datastore had them already (or a file had them twice). */
  duplicateBatches: number;
  /** Batches without probe rows: nothing to store. */
  emptyBatches: number;
  /** Lines that were not a batch; each reported with file:line. */
  badLines: number;
  /** Change-tracked samples equal to the last stored one. */
  unchangedSamples: number;
  /** Samples of probes this version has no table for. */
  unknownSamples: number;
  /** Values that did not fit their column and were stored as NULL. */
  coercedValues: number;
}

/** The summary as one `key=value` line, for people and scripts. */
export function formatLoadSummary(s: LoadSummary): string {
  return (
    `files=${s.files} failed_files=${s.failedFiles} batches=${s.batches} ` +
    `stored_batches=${s.storedBatches} rows=${s.rows} duplicate_batches=${s.duplicateBatches} ` +
    `empty_batches=${s.emptyBatches} bad_lines=${s.badLines} ` +
    `unchanged_samples=${s.unchangedSamples} unknown_samples=${s.unknownSamples} ` +
    `coerced_values=${s.coercedValues}`
  );
}

/**
 * `pgquerylens load FILES...`: stores batches carried from a collector's spool (see
 * NdjsonSpoolAdapter) in the history datastore, a few thousand rows per transaction. Loading a
 * file twice stores it once: every batch's content hash is kept in the ingest ledger.
 *
 * Exit 0 when every line was a batch and is stored; 1 when a line was bad or a file unreadable
 * (the rest is still stored) or the datastore failed; 2 for configuration problems.
 */
export async function loadCommand(args: LoadArgs, io: LoadIo): Promise<number> {
  const batchRows = args.batchRows ?? DEFAULT_LOAD_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1) {
    io.stderr.write(`pgquerylens load: --batch-rows must be a positive integer\n`);
    return EXIT_USAGE;
  }
  if (args.files.length === 0) {
    io.stderr.write('pgquerylens load: no files given\n');
    return EXIT_USAGE;
  }
  const config = resolveConfig(args, io);
  if (config === undefined) return EXIT_USAGE;
  const url = await datastoreUrl(config, io);
  if (url === undefined) return EXIT_USAGE;
  const logger =
    io.logger ??
    createLogger({
      level: config.log.level,
      format: config.log.format,
      bindings: { command: 'load' },
    });

  const datastore = config.datastore;
  const pool = createDatastorePool({
    url,
    // One write at a time: a couple of connections (writer and partition upkeep) are enough.
    maxConnections: Math.min(datastore?.maxConnections ?? 25, 4),
  });
  const summary: LoadSummary = {
    files: 0,
    failedFiles: 0,
    batches: 0,
    storedBatches: 0,
    rows: 0,
    duplicateBatches: 0,
    emptyBatches: 0,
    badLines: 0,
    unchangedSamples: 0,
    unknownSamples: 0,
    coercedValues: 0,
  };
  try {
    const schemas = builtinProbeSchemas();
    await prepareDatastore(pool, schemas, logger);
    const writer = new DatastoreWriter({ pool, schemas, owner: datastore?.owner ?? 'pgquerylens' });
    const loader = new ChunkedLoader(writer, batchRows, summary);

    for (const file of args.files) {
      await loadFile(file, loader, summary, io);
    }
    await loader.flush();
  } catch (err) {
    io.stdout.write(`${formatLoadSummary(summary)}\n`);
    io.stderr.write(
      `pgquerylens load: storing failed: ${redact(errorMessage(err))}; ` +
        'run the same load again: batches already stored are skipped\n',
    );
    return EXIT_RUNTIME_FAILURE;
  } finally {
    await pool.end().catch(() => undefined);
  }
  io.stdout.write(`${formatLoadSummary(summary)}\n`);
  logger.info('load complete', { ...summary });
  return summary.badLines > 0 || summary.failedFiles > 0 ? EXIT_RUNTIME_FAILURE : EXIT_OK;
}

/** Positional and own options of `load`; `--config` and logging flags are global. */
interface LoadCommandOptions {
  files: string[];
  'batch-rows': number;
}

/** `pgquerylens load <files..>` for yargs; the work is loadCommand. */
export const loadCommandModule: CommandModule<object, LoadCommandOptions> = {
  command: 'load <files..>',
  describe:
    'Store spooled batches (.ndjson.gz from --output=file, or .ndjson) in the datastore; ' +
    'batches already stored are skipped. Exit 0, 1 (bad lines or failure) or 2 (configuration)',
  builder: (y: Argv) =>
    y
      .positional('files', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'Spool files, loaded in the order given',
      })
      .option('batch-rows', {
        type: 'number',
        default: DEFAULT_LOAD_BATCH_ROWS,
        describe: 'Rows per write transaction',
      }),
  handler: async (args) => {
    const flags = args as typeof args &
      Partial<Record<'config' | 'logLevel' | 'logFormat', string>>;
    process.exitCode = await loadCommand(
      {
        files: args.files,
        batchRows: args.batchRows,
        ...(flags.config === undefined ? {} : { config: flags.config }),
        ...(flags.logLevel === undefined ? {} : { logLevel: flags.logLevel }),
        ...(flags.logFormat === undefined ? {} : { logFormat: flags.logFormat }),
      },
      { env: process.env, stdout: process.stdout, stderr: process.stderr },
    );
  },
};

/** The usual configuration (file, PGQUERYLENS_* environment, flags), errors to io.stderr. */
function resolveConfig(args: LoadArgs, io: LoadIo): ResolvedConfig | undefined {
  const flags = {
    ...(args.config === undefined ? {} : { config: args.config }),
    ...(args.logLevel === undefined ? {} : { logLevel: args.logLevel }),
    ...(args.logFormat === undefined ? {} : { logFormat: args.logFormat }),
  };
  try {
    const configPath = configPathOf(flags, io.env);
    return loadConfig({
      ...(configPath === undefined ? {} : { configPath }),
      env: io.env,
      flags: flagsToRawConfig(flags),
      knownCollectors: builtinCollectorNames(),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) {
      io.stderr.write(`config error: ${redact(formatConfigIssue(issue))}\n`);
    }
    return undefined;
  }
}

/** The datastore's URL with the password from `datastore.passwordFile` applied, or undefined. */
async function datastoreUrl(config: ResolvedConfig, io: LoadIo): Promise<string | undefined> {
  const datastore = config.datastore;
  if (datastore?.url === undefined) {
    io.stderr.write(
      'config error: datastore.url: load needs the datastore (set datastore.url in the ' +
        'configuration file or PGQUERYLENS_DATASTORE_URL)\n',
    );
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(datastore.url);
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error();
  } catch {
    io.stderr.write(
      'config error: datastore.url: load needs a postgres:// URL of the datastore' +
        (datastore.url === 'embedded' ? ' (the embedded datastore cannot be loaded into)' : '') +
        '\n',
    );
    return undefined;
  }
  if (datastore.passwordFile !== undefined && url.password === '') {
    try {
      const password = (await readFile(datastore.passwordFile, 'utf8')).replace(/\r?\n$/, '');
      registerSecret(password);
      url.password = encodeURIComponent(password);
    } catch (err) {
      const issue = {
        path: 'datastore.passwordFile',
        message: `cannot read ${datastore.passwordFile}: ${errorMessage(err)}`,
      };
      io.stderr.write(`config error: ${redact(formatConfigIssue(issue))}\n`);
      return undefined;
    }
  }
  return url.toString();
}

/** Collects batches and writes them a few thousand rows at a time. */
class ChunkedLoader {
  readonly #writer: DatastoreWriter;
  readonly #maxRows: number;
  readonly #summary: LoadSummary;
  #pending: PendingBatch[] = [];
  #ids = new Set<string>();
  #rows = 0;

  constructor(writer: DatastoreWriter, maxRows: number, summary: LoadSummary) {
    this.#writer = writer;
    this.#maxRows = maxRows;
    this.#summary = summary;
  }

  async add(batch: UnifiedMetrics): Promise<void> {
    this.#summary.batches++;
    const pending = pendingFromBatch(batch);
    if (pending === undefined) {
      this.#summary.emptyBatches++;
      return;
    }
    // The ledger only tells batches apart across writes: one write must hold a batch once.
    if (this.#ids.has(pending.id)) {
      this.#summary.duplicateBatches++;
      return;
    }
    if (this.#rows > 0 && this.#rows + pending.rows > this.#maxRows) await this.flush();
    this.#pending.push(pending);
    this.#ids.add(pending.id);
    this.#rows += pending.rows;
  }

  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batches = this.#pending;
    const result: WriteResult = await this.#writer.write(batches);
    this.#pending = [];
    this.#ids = new Set();
    this.#rows = 0;
    const s = this.#summary;
    s.storedBatches += batches.length - result.duplicateBatches;
    s.duplicateBatches += result.duplicateBatches;
    s.rows += result.rows;
    s.unchangedSamples += result.unchangedSamples;
    s.unknownSamples += result.unknownSamples;
    s.coercedValues += result.coercedValues;
  }
}

async function loadFile(
  file: string,
  loader: ChunkedLoader,
  summary: LoadSummary,
  io: LoadIo,
): Promise<void> {
  if (file.endsWith(SPOOL_PARTIAL_SUFFIX)) {
    summary.failedFiles++;
    io.stderr.write(
      `${file}: not loaded: still being written, or left by a crash (the collector completes ` +
        'it on its next start); load the finished .ndjson.gz\n',
    );
    return;
  }
  let gzip: boolean;
  try {
    gzip = await isGzip(file);
  } catch (err) {
    summary.failedFiles++;
    io.stderr.write(`${file}: cannot read: ${errorMessage(err)}\n`);
    return;
  }
  let lineNo = 0;
  try {
    for await (const line of readLines(file, gzip)) {
      lineNo++;
      if (line.trim() === '') continue;
      const parsed = parseBatchLine(line);
      if (typeof parsed === 'string') {
        summary.badLines++;
        io.stderr.write(`${file}:${lineNo}: ${parsed}; line skipped\n`);
        continue;
      }
      try {
        await loader.add(parsed);
      } catch (err) {
        throw new DatastoreFailure(err);
      }
    }
  } catch (err) {
    if (err instanceof DatastoreFailure) throw err.cause;
    // A truncated or damaged file: what came before is loaded, the rest is one bad line.
    summary.badLines++;
    io.stderr.write(`${file}:${lineNo + 1}: unreadable from here on: ${errorMessage(err)}\n`);
  }
  summary.files++;
}

/** Wraps a datastore error thrown inside the read loop, so it is not taken for a bad file. */
class DatastoreFailure extends Error {
  constructor(cause: unknown) {
    super(errorMessage(cause), { cause });
  }
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** The lines of a plain or gzip file, without line ends; errors of either stream are thrown. */
async function* readLines(file: string, gzip: boolean): AsyncGenerator<string> {
  const input = createReadStream(file);
  let source: Readable = input;
  if (gzip) {
    const gunzip = createGunzip();
    input.on('error', (err) => gunzip.destroy(err));
    source = input.pipe(gunzip);
  }
  const decoder = new StringDecoder('utf8');
  // A batch line can be megabytes: keep pieces, join once per line.
  let pieces: string[] = [];
  try {
    for await (const chunk of source) {
      const text = decoder.write(chunk as Buffer);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        pieces.push(text.slice(start, nl));
        start = nl + 1;
        yield stripCr(pieces.join(''));
        pieces = [];
      }
      if (start < text.length) pieces.push(text.slice(start));
    }
    pieces.push(decoder.end());
    const last = pieces.join('');
    if (last !== '') yield stripCr(last);
  } finally {
    input.destroy();
    source.destroy();
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** A batch, or why the line is not one. Checks what storing relies on, not every field. */
export function parseBatchLine(line: string): UnifiedMetrics | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not JSON: ${errorMessage(err)}`;
  }
  if (!isObject(value)) return 'not a batch: not a JSON object';
  if (value.schemaVersion !== UNIFIED_METRICS_SCHEMA_VERSION) {
    return `not a batch: schemaVersion is ${JSON.stringify(value.schemaVersion)}, expected ${UNIFIED_METRICS_SCHEMA_VERSION}`;
  }
  const target = value.target;
  if (!isObject(target) || typeof target.name !== 'string' || target.name === '') {
    return 'not a batch: target.name missing';
  }
  if (typeof target.host !== 'string' || typeof target.port !== 'number') {
    return 'not a batch: target.host or target.port missing';
  }
  if (target.labels !== undefined && !isObject(target.labels)) {
    return 'not a batch: target.labels is not an object';
  }
  const metadata = value.metadata;
  if (!isObject(metadata) || typeof metadata.startedAt !== 'string') {
    return 'not a batch: metadata.startedAt missing';
  }
  if (!Array.isArray(value.probes)) return 'not a batch: probes is not an array';
  for (const [i, sample] of value.probes.entries()) {
    if (
      !isObject(sample) ||
      typeof sample.probe !== 'string' ||
      typeof sample.collectedAt !== 'string' ||
      Number.isNaN(Date.parse(sample.collectedAt)) ||
      (sample.database !== undefined && typeof sample.database !== 'string') ||
      !Array.isArray(sample.rows) ||
      !sample.rows.every(isObject)
    ) {
      return `not a batch: probes[${i}] is not a probe sample (probe, collectedAt, rows)`;
    }
  }
  // Parts this command does not store may be absent in hand-made files.
  return {
    ...value,
    target: { ...target, labels: target.labels ?? {} },
  } as unknown as UnifiedMetrics;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
