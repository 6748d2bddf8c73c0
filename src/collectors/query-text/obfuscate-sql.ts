/**
 * Statement texts from sessions carry their constants verbatim (names, e-mail addresses,
 * passwords in ALTER ROLE), so before a text leaves the process every string and numeric
 * literal becomes `?` and comments, which may hold anything, are dropped. Keywords,
 * identifiers, `$n` parameters and operators stay, so the statement remains recognisable.
 */
import { scanSqlToken } from './sql-lexer.js';
import type { ParserToken } from './sql-parser.js';
import { scanSqlWithParser } from './sql-parser.js';

/** Which tokenizer finds the literals: the server's own scanner or the hand-written lexer. */
export type ObfuscationEngine = 'parser' | 'lexer';

/**
 * The output as parallel arrays: each piece's text and whether whitespace or a comment
 * preceded it in the source (kept as one space: a comment between two words must not glue them).
 */
interface Pieces {
  readonly texts: string[];
  readonly spaced: boolean[];
}

const PLACEHOLDER = '?';

/** Pieces found by the fallback lexer; it takes any text, truncated ones included. */
function piecesFromLexer(text: string): Pieces {
  const texts: string[] = [];
  const spaced: boolean[] = [];
  let space = false;
  let position = 0;
  while (position < text.length) {
    const token = scanSqlToken(text, position);
    position = token.end;
    switch (token.kind) {
      case 'whitespace':
      case 'line-comment':
      case 'block-comment':
        space = true;
        continue;
      case 'string':
      case 'number':
      case 'incomplete':
        texts.push(PLACEHOLDER);
        break;
      default:
        texts.push(text.slice(token.start, token.end));
    }
    spaced.push(space);
    space = false;
  }
  return { texts, spaced };
}

const LITERAL_TOKENS = new Set(['SCONST', 'USCONST', 'BCONST', 'XCONST', 'ICONST', 'FCONST']);

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Whether a scanner token is a constant. libpg-query names only some token types (B'…', X'…'
 * and U&'…' come back as UNKNOWN), so the token's first characters decide when the name does not.
 */
function isLiteral(token: ParserToken): boolean {
  if (LITERAL_TOKENS.has(token.tokenName)) return true;
  const text = token.text;
  const first = text.charCodeAt(0);
  const second = text.charCodeAt(1);
  if (first === 39 || isDigitCode(first)) return true; // '…, digits
  if (first === 46) return isDigitCode(second); // .5
  if (first === 36) return !isDigitCode(second); // $tag$…$tag$, not $1
  if (second === 39) return 'bBxXeEnN'.includes(text.charAt(0));
  return (first | 0x20) === 117 && second === 38 && text.charCodeAt(2) === 39; // U&'…'
}

function isComment(token: ParserToken): boolean {
  return token.text.startsWith('--') || token.text.startsWith('/*');
}

/** Pieces from the server scanner's tokens (offsets in bytes, comments included as tokens). */
function piecesFromParser(tokens: readonly ParserToken[]): Pieces {
  const texts: string[] = [];
  const spaced: boolean[] = [];
  let space = false;
  let previousEnd = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === undefined) continue;
    if (token.start > previousEnd) space = true;
    previousEnd = token.end;
    if (isComment(token)) {
      space = true;
      continue;
    }
    // N'…' scans as the keyword `n` then a plain string; the lexer sees one literal.
    const next = tokens[i + 1];
    if (
      (token.text === 'n' || token.text === 'N') &&
      next !== undefined &&
      next.start === token.end &&
      next.text.startsWith("'")
    ) {
      continue;
    }
    texts.push(isLiteral(token) ? PLACEHOLDER : token.text);
    spaced.push(space);
    space = false;
  }
  return { texts, spaced };
}

function isWord(text: string | undefined, lowerCaseWord: string): boolean {
  return (
    text !== undefined &&
    text.length === lowerCaseWord.length &&
    text.toLowerCase() === lowerCaseWord
  );
}

/**
 * End of a list of placeholders (`?`, `-?`, `+?`) starting at `from`: the index of `close`,
 * `texts.length` when the text ends inside the list (truncated), or -1 when anything else
 * appears. `count` receives the number of elements.
 */
function placeholderListEnd(
  texts: readonly string[],
  from: number,
  close: string,
  count: { elements: number },
): number {
  let i = from;
  for (;;) {
    const sign = texts[i];
    if (sign === '-' || sign === '+') i++;
    if (i >= texts.length) return texts.length;
    if (texts[i] !== PLACEHOLDER) return -1;
    count.elements++;
    i++;
    const after = texts[i];
    if (after === undefined) return texts.length;
    if (after === close) return i;
    if (after !== ',') return -1;
    i++;
  }
}

/** `IN (?, ?, ?)` → `IN (?)` and `ARRAY[?, ?]` → `ARRAY[?]`; `$n` lists are left alone. */
function collapsePlaceholderLists(pieces: Pieces): Pieces {
  const { texts, spaced } = pieces;
  const outTexts: string[] = [];
  const outSpaced: boolean[] = [];
  let i = 0;
  while (i < texts.length) {
    const word = texts[i];
    const open = texts[i + 1];
    const close =
      open === '(' && isWord(word, 'in') ? ')' : open === '[' && isWord(word, 'array') ? ']' : '';
    if (close !== '') {
      const count = { elements: 0 };
      const end = placeholderListEnd(texts, i + 2, close, count);
      if (end >= 0 && count.elements > 1) {
        // Keep the word, the opening bracket and the first element as written.
        let j = i;
        for (;;) {
          outTexts.push(texts[j] ?? '');
          outSpaced.push(spaced[j] ?? false);
          if (texts[j] === PLACEHOLDER) break;
          j++;
        }
        if (end < texts.length) {
          outTexts.push(close);
          outSpaced.push(spaced[end] ?? false);
        }
        i = end + 1;
        continue;
      }
    }
    outTexts.push(word ?? '');
    outSpaced.push(spaced[i] ?? false);
    i++;
  }
  return { texts: outTexts, spaced: outSpaced };
}

/** Index just past the bracketed group opening at `open`, or -1 when the text ends inside it. */
function groupEnd(texts: readonly string[], open: number): number {
  let depth = 0;
  for (let i = open; i < texts.length; i++) {
    const text = texts[i];
    if (text === '(' || text === '[') depth++;
    else if ((text === ')' || text === ']') && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * How many pieces from `at` repeat the row `texts[rowStart, rowEnd)`, or -1 if they do not;
 * a repetition cut short by the end of the text counts.
 */
function repeatedRow(
  texts: readonly string[],
  at: number,
  rowStart: number,
  rowEnd: number,
): number {
  const length = rowEnd - rowStart;
  for (let k = 0; k < length; k++) {
    const text = texts[at + k];
    if (text === undefined) return texts.length - at;
    if (text !== texts[rowStart + k]) return -1;
  }
  return length;
}

/** `VALUES (?, ?), (?, ?)` → `VALUES (?, ?)`: rows identical to the first one are dropped. */
function collapseValuesRows(pieces: Pieces): Pieces {
  const { texts, spaced } = pieces;
  const outTexts: string[] = [];
  const outSpaced: boolean[] = [];
  let i = 0;
  while (i < texts.length) {
    const rowStart = i + 1;
    const rowEnd =
      texts[rowStart] === '(' && isWord(texts[i], 'values') ? groupEnd(texts, i + 1) : -1;
    if (rowEnd < 0) {
      outTexts.push(texts[i] ?? '');
      outSpaced.push(spaced[i] ?? false);
      i++;
      continue;
    }
    for (let j = i; j < rowEnd; j++) {
      outTexts.push(texts[j] ?? '');
      outSpaced.push(spaced[j] ?? false);
    }
    i = rowEnd;
    while (texts[i] === ',') {
      const repeated = repeatedRow(texts, i + 1, rowStart, rowEnd);
      if (repeated < 0) break;
      i += 1 + repeated;
    }
  }
  return { texts: outTexts, spaced: outSpaced };
}

/**
 * Whitespace inside brackets and before separators never separates tokens, so dropping it lets
 * `f( a , b )` and `f(a, b)` read the same, and `IN ($1 /*, ... *\/)` become `IN ($1)`.
 */
function needsSpace(previous: string | undefined, current: string | undefined): boolean {
  switch (current) {
    case ')':
    case ']':
    case ',':
    case ';':
      return false;
    default:
      return previous !== '(' && previous !== '[';
  }
}

function joined(pieces: Pieces): string {
  const { texts, spaced } = pieces;
  let out = '';
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i] ?? '';
    if (i > 0 && spaced[i] === true && needsSpace(texts[i - 1], text)) out += ' ';
    out += text;
  }
  return out;
}

function finish(pieces: Pieces): string {
  return joined(collapseValuesRows(collapsePlaceholderLists(pieces)));
}

/** Obfuscation with the fallback lexer only; takes any text. */
export function obfuscateSqlWithLexer(text: string): string {
  return finish(piecesFromLexer(text));
}

/**
 * Obfuscation with the server's scanner, or undefined when the parser is not loaded or the text
 * does not scan (typically a truncated text ending inside a literal).
 */
export function obfuscateSqlWithParser(text: string): string | undefined {
  const tokens = scanSqlWithParser(text);
  return tokens === undefined ? undefined : finish(piecesFromParser(tokens));
}

/**
 * `text` with every string and numeric literal replaced by `?`, comments dropped, whitespace
 * runs collapsed to one space (none inside brackets or before `,` and `;`), and lists of
 * constants collapsed to one element.
 *
 * The lexer is the default: the WASM scanner costs about 130 µs for a 200-character statement
 * (and about half a second for a 1 MB one, blocking the event loop) against about 6 µs, and the
 * two give the same output for well-formed SQL. `parser` uses the server's scanner when it is
 * loaded and the text scans, and the lexer otherwise.
 */
export function obfuscateSql(text: string, engine: ObfuscationEngine = 'lexer'): string {
  const once = (t: string): string =>
    engine === 'parser'
      ? (obfuscateSqlWithParser(t) ?? obfuscateSqlWithLexer(t))
      : obfuscateSqlWithLexer(t);
  if (!text.includes("\\'")) return once(text);
  // A session with standard_conforming_strings off writes 'O\'Brien', which the standard
  // reading ends at the backslash, leaving the rest of the literal in the clear. Read both
  // ways (\' is '' in that dialect) and keep the reading that leaves fewer words in the clear.
  const standard = once(text);
  const legacy = once(text.replaceAll("\\'", "''"));
  return wordChars(legacy) < wordChars(standard) ? legacy : standard;
}

function wordChars(text: string): number {
  return text.replace(/[^\p{L}\p{N}_]/gu, '').length;
}
