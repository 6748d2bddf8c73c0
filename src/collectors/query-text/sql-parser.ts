/**
 * PostgreSQL's own parser (libpg-query, compiled to WASM), loaded only on demand: it costs about
 * 18 MB of RSS, which processes that never explain or fingerprint statements should not pay.
 * Once loaded it decides whether a text is safe to hand to EXPLAIN.
 */
import type * as LibPgQuery from 'libpg-query';
import type { Node, SelectStmt } from 'libpg-query';
import { scanSqlToken } from './sql-lexer.js';

/** Statement kinds EXPLAIN accepts without running anything but the planner. */
export type ExplainableKind =
  'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'MERGE' | 'WITH' | 'TABLE' | 'VALUES';

/** Whether a text may be explained, and if not, why not (for logs and diagnostics). */
export type ExplainVerdict =
  | { readonly ok: true; readonly kind: ExplainableKind }
  | { readonly ok: false; readonly reason: string };

/** One token as the server's scanner splits it; offsets are UTF-8 byte offsets. */
export interface ParserToken {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly tokenName: string;
}

/** Parser messages can quote the offending text; keep reasons short enough for a log line. */
const MAX_REASON_CHARS = 160;

/** libpg-query fingerprints are 64-bit hashes in hex. */
const FINGERPRINT = /^[0-9a-f]{16}$/;

let parser: typeof LibPgQuery | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads the parser once; concurrent callers share the one load. A failed load is forgotten so
 * a later call can try again.
 */
export function loadSqlParser(): Promise<void> {
  if (parser !== undefined) return Promise.resolve();
  loading ??= (async () => {
    try {
      const module = await import('libpg-query');
      await module.loadModule();
      parser = module;
    } finally {
      loading = undefined;
    }
  })();
  return loading;
}

/** Whether `loadSqlParser` has completed, i.e. the synchronous functions below can parse. */
export function sqlParserLoaded(): boolean {
  return parser !== undefined;
}

function loadedParser(): typeof LibPgQuery {
  if (parser === undefined) {
    throw new Error('SQL parser not loaded: await loadSqlParser() before explainableStatement()');
  }
  return parser;
}

function shortMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n', 1)[0] ?? '';
  return line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS - 1)}…` : line;
}

/** First keyword of the statement, past whitespace, comments, `;` and opening parentheses. */
function leadingWord(text: string): string {
  let position = 0;
  while (position < text.length) {
    const token = scanSqlToken(text, position);
    position = token.end;
    if (token.kind === 'identifier') return text.slice(token.start, token.end).toLowerCase();
    if (token.kind === 'whitespace' || token.kind.endsWith('comment')) continue;
    const char = text[token.start];
    if (char !== '(' && char !== ';') return '';
  }
  return '';
}

/** SELECT … INTO creates a table, so it is no query; it may hide in either arm of a UNION. */
function selectsInto(select: SelectStmt): boolean {
  if (select.intoClause !== undefined) return true;
  return (
    (select.larg !== undefined && selectsInto(select.larg)) ||
    (select.rarg !== undefined && selectsInto(select.rarg))
  );
}

function selectKind(select: SelectStmt, text: string): ExplainVerdict {
  if (selectsInto(select)) return { ok: false, reason: 'SELECT … INTO creates a table' };
  if (select.withClause !== undefined) return { ok: true, kind: 'WITH' };
  if (select.op !== undefined && select.op !== 'SETOP_NONE') return { ok: true, kind: 'SELECT' };
  if (select.valuesLists !== undefined) return { ok: true, kind: 'VALUES' };
  // The tree of `TABLE t` is that of `SELECT * FROM t`; only the text tells them apart.
  return { ok: true, kind: leadingWord(text) === 'table' ? 'TABLE' : 'SELECT' };
}

function statementKind(node: Node, text: string): ExplainVerdict {
  if ('SelectStmt' in node) return selectKind(node.SelectStmt, text);
  if ('InsertStmt' in node) {
    return { ok: true, kind: node.InsertStmt.withClause === undefined ? 'INSERT' : 'WITH' };
  }
  if ('UpdateStmt' in node) {
    return { ok: true, kind: node.UpdateStmt.withClause === undefined ? 'UPDATE' : 'WITH' };
  }
  if ('DeleteStmt' in node) {
    return { ok: true, kind: node.DeleteStmt.withClause === undefined ? 'DELETE' : 'WITH' };
  }
  if ('MergeStmt' in node) {
    return { ok: true, kind: node.MergeStmt.withClause === undefined ? 'MERGE' : 'WITH' };
  }
  const name = Object.keys(node)[0] ?? 'unknown';
  return { ok: false, reason: `${name} is not an explainable query` };
}

/**
 * Whether `text` is exactly one plain query or DML statement, the only thing EXPLAIN may be
 * given: a second statement would run unexplained, and utility statements have no plan.
 * pg_stat_statements texts (`$1` placeholders, PG18's `($1 /*, ... *\/)` lists) are accepted.
 * Throws when the parser is not loaded.
 */
export function explainableStatement(text: string): ExplainVerdict {
  const pg = loadedParser();
  let statements;
  try {
    statements = pg.parseSync(text).stmts ?? [];
  } catch (error) {
    return { ok: false, reason: `does not parse: ${shortMessage(error)}` };
  }
  if (statements.length !== 1) {
    return {
      ok: false,
      reason: statements.length === 0 ? 'no statement' : `${statements.length} statements`,
    };
  }
  const node = statements[0]?.stmt;
  if (node === undefined) return { ok: false, reason: 'no statement' };
  return statementKind(node, text);
}

/**
 * libpg-query's fingerprint (same value for texts differing only in constants and layout), or
 * undefined when the parser is not loaded or the text does not parse.
 */
export function fingerprintSql(text: string): string | undefined {
  if (parser === undefined) return undefined;
  try {
    const fingerprint = parser.fingerprintSync(text);
    // Some errors come back as the result string instead of being thrown.
    return FINGERPRINT.test(fingerprint) ? fingerprint : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The server scanner's tokens for `text` (comments included), or undefined when the parser is
 * not loaded or the text does not scan (unterminated literals, trailing junk after numbers).
 */
export function scanSqlWithParser(text: string): readonly ParserToken[] | undefined {
  if (parser === undefined) return undefined;
  // The scanner reports an empty text as an error; it simply has no tokens.
  if (text === '') return [];
  try {
    const tokens: unknown = parser.scanSync(text).tokens;
    return Array.isArray(tokens) ? (tokens as ParserToken[]) : undefined;
  } catch {
    return undefined;
  }
}
