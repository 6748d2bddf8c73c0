/**
 * The class of a statement as nri-postgresql reports it, from its text alone. The lexer reads
 * only as far as needed, so a long text costs little unless it opens with a long CTE list.
 */
import type { StatementType } from '../../core/model/slow-query.js';
import type { SqlToken } from './sql-lexer.js';
import { scanSqlToken } from './sql-lexer.js';

/** Tokens that matter, past whitespace and comments; `undefined` at the end of the text. */
class TokenCursor {
  readonly #text: string;
  #position = 0;

  constructor(text: string) {
    this.#text = text;
  }

  next(): SqlToken | undefined {
    while (this.#position < this.#text.length) {
      const token = scanSqlToken(this.#text, this.#position);
      this.#position = token.end;
      if (token.kind !== 'whitespace' && !token.kind.endsWith('comment')) return token;
    }
    return undefined;
  }

  /** The token's text; keywords lower-cased so callers can compare them directly. */
  textOf(token: SqlToken | undefined): string {
    if (token === undefined) return '';
    const text = this.#text.slice(token.start, token.end);
    return token.kind === 'identifier' ? text.toLowerCase() : text;
  }
}

/** Words that start the statement a CTE list belongs to. */
const MAIN_STATEMENT_WORDS = new Set([
  'select',
  'insert',
  'update',
  'delete',
  'merge',
  'values',
  'table',
]);

function classify(word: string): StatementType {
  switch (word) {
    case 'select':
    case 'table':
    case 'values':
      return 'SELECT';
    case 'insert':
      return 'INSERT';
    case 'update':
      return 'UPDATE';
    case 'delete':
      return 'DELETE';
    default:
      return 'OTHER';
  }
}

/** The first word after any opening parentheses, `token` being the first candidate. */
function wordPastParens(cursor: TokenCursor, token: SqlToken | undefined): string {
  let current = token;
  while (cursor.textOf(current) === '(') current = cursor.next();
  return current?.kind === 'identifier' ? cursor.textOf(current) : '';
}

/** Consumes tokens through the `)` closing a group whose `(` was just read. */
function skipGroup(cursor: TokenCursor): boolean {
  let depth = 1;
  for (let token = cursor.next(); token !== undefined; token = cursor.next()) {
    const text = cursor.textOf(token);
    if (text === '(') depth++;
    else if (text === ')' && --depth === 0) return true;
  }
  return false;
}

/**
 * The statement after `WITH [RECURSIVE] name [(cols)] AS [[NOT] MATERIALIZED] (…) [, …]`,
 * walked by structure so CTE bodies (which may themselves delete or insert) are skipped whole.
 */
function mainAfterWith(cursor: TokenCursor): StatementType {
  let token = cursor.next();
  if (cursor.textOf(token) === 'recursive') token = cursor.next();
  for (;;) {
    // The CTE name, then an optional column list, up to AS.
    if (token === undefined) return 'OTHER';
    token = cursor.next();
    if (cursor.textOf(token) === '(') {
      if (!skipGroup(cursor)) return 'OTHER';
      token = cursor.next();
    }
    if (cursor.textOf(token) !== 'as') return 'OTHER';
    token = cursor.next();
    if (cursor.textOf(token) === 'not') token = cursor.next();
    if (cursor.textOf(token) === 'materialized') token = cursor.next();
    if (cursor.textOf(token) !== '(' || !skipGroup(cursor)) return 'OTHER';
    // SEARCH/CYCLE clauses may follow the body; then another CTE or the statement itself.
    for (token = cursor.next(); token !== undefined; token = cursor.next()) {
      const text = cursor.textOf(token);
      if (text === ',') break;
      if (text === '(') return classify(wordPastParens(cursor, token));
      if (token.kind === 'identifier' && MAIN_STATEMENT_WORDS.has(text)) return classify(text);
    }
    token = cursor.next();
  }
}

/**
 * SELECT, INSERT, UPDATE, DELETE or OTHER from the leading keyword, past whitespace, comments
 * and opening parentheses; for `WITH …` the statement after the CTE list decides. `TABLE` and
 * `VALUES` are SELECT; MERGE and everything else is OTHER, as nri-postgresql has only these.
 */
export function statementType(text: string): StatementType {
  const cursor = new TokenCursor(text);
  const word = wordPastParens(cursor, cursor.next());
  return word === 'with' ? mainAfterWith(cursor) : classify(word);
}
