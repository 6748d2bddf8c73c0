/**
 * A hand-written PostgreSQL tokenizer for texts the real parser cannot take: pg_stat_activity
 * cuts texts at track_activity_query_size, so they often end inside a string, a quoted
 * identifier, a dollar quote or a comment. It never throws and always consumes the whole text;
 * it follows PostgreSQL's scan.l closely enough that literal boundaries match the server's.
 */

/** What a token is; `incomplete` is a string or dollar quote still open at the end of input. */
export type SqlTokenKind =
  | 'string'
  | 'number'
  | 'parameter'
  | 'quoted-identifier'
  | 'identifier'
  | 'operator'
  | 'punctuation'
  | 'whitespace'
  | 'line-comment'
  | 'block-comment'
  | 'incomplete';

/** One token: its kind and its UTF-16 offsets in the text (`end` exclusive). */
export interface SqlToken {
  readonly kind: SqlTokenKind;
  readonly start: number;
  readonly end: number;
}

// Character codes, named so the state machine below reads like scan.l.
const TAB = 9;
const LF = 10;
const VT = 11;
const FF = 12;
const CR = 13;
const SPACE = 32;
const BANG = 33;
const DQUOTE = 34;
const HASH = 35;
const DOLLAR = 36;
const PERCENT = 37;
const AMP = 38;
const QUOTE = 39;
const LPAREN = 40;
const RPAREN = 41;
const STAR = 42;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const SLASH = 47;
const COLON = 58;
const SEMI = 59;
const LT = 60;
const EQ = 61;
const GT = 62;
const QMARK = 63;
const AT = 64;
const LBRACKET = 91;
const BACKSLASH = 92;
const RBRACKET = 93;
const CARET = 94;
const UNDERSCORE = 95;
const BACKTICK = 96;
const PIPE = 124;
const TILDE = 126;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** scan.l's ident_start: bytes with the high bit set count as letters, so any non-ASCII does. */
function isIdentStart(c: number): boolean {
  return isLetter(c) || c === UNDERSCORE || c >= 128;
}

function isIdentChar(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === DOLLAR;
}

/** Dollar-quote tags are identifiers without `$`. */
function isTagChar(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || c === FF || c === VT;
}

/** scan.l's op_chars. */
function isOpChar(c: number): boolean {
  switch (c) {
    case TILDE:
    case BANG:
    case AT:
    case HASH:
    case CARET:
    case AMP:
    case PIPE:
    case BACKTICK:
    case QMARK:
    case PLUS:
    case MINUS:
    case STAR:
    case SLASH:
    case PERCENT:
    case LT:
    case GT:
    case EQ:
      return true;
    default:
      return false;
  }
}

/**
 * How a quoted string's body is read, i.e. what keeps a quote inside it: '…', N'…' and U&'…'
 * take only a doubled quote, E'…' a backslash too, B'…' and X'…' nothing.
 */
type Quoting = 'standard' | 'escaped' | 'bits';

/**
 * End of a quoted string whose body starts at `from`, or -1 when the text ends inside it.
 * Literals separated only by whitespace containing a newline are one literal in PostgreSQL
 * (`'a'` newline `'b'` is `'ab'`), so the scan continues across such a gap.
 */
function stringEnd(text: string, from: number, quoting: Quoting): number {
  const length = text.length;
  let i = from;
  for (;;) {
    // indexOf is much faster than a per-character loop for long literals.
    const quote = text.indexOf("'", i);
    if (quote < 0) return -1;
    if (quoting === 'escaped') {
      let backslashes = 0;
      for (let j = quote - 1; j >= i && text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
      if (backslashes % 2 === 1) {
        i = quote + 1;
        continue;
      }
    }
    if (quoting !== 'bits' && text.charCodeAt(quote + 1) === QUOTE) {
      i = quote + 2;
      continue;
    }
    const end = quote + 1;
    let j = end;
    let newline = false;
    while (j < length) {
      const c = text.charCodeAt(j);
      if (!isSpace(c)) break;
      if (c === LF || c === CR) newline = true;
      j++;
    }
    if (!newline || text.charCodeAt(j) !== QUOTE) return end;
    i = j + 1;
  }
}

/** End of a block comment opened at `start`; comments nest in PostgreSQL. */
function blockCommentEnd(text: string, start: number): number {
  const length = text.length;
  let depth = 1;
  let i = start + 2;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === STAR && text.charCodeAt(i + 1) === SLASH) {
      i += 2;
      if (--depth === 0) return i;
    } else if (c === SLASH && text.charCodeAt(i + 1) === STAR) {
      i += 2;
      depth++;
    } else {
      i++;
    }
  }
  return length;
}

function quotedIdentifierEnd(text: string, from: number): number {
  let i = from;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return text.length;
    if (text.charCodeAt(quote + 1) !== DQUOTE) return quote + 1;
    i = quote + 2;
  }
}

/**
 * End of a numeric literal starting at `start`. Trailing identifier characters are swallowed
 * with it: PostgreSQL 15+ rejects `123abc` as trailing junk, and older servers would read
 * `0x1F` as `0 AS x1F`; either way the digits must not leak out as an identifier.
 */
function numberEnd(text: string, start: number): number {
  const length = text.length;
  let i = start;
  const second = text.charCodeAt(start + 1) | 0x20;
  if (
    text.charCodeAt(start) === 48 &&
    (second === 120 || second === 111 || second === 98) &&
    isHexDigit(text.charCodeAt(start + 2))
  ) {
    // 0x…, 0o…, 0b… (PostgreSQL 16); invalid digits fall into the junk below.
    i = start + 2;
  } else {
    while (i < length && (isDigit(text.charCodeAt(i)) || text.charCodeAt(i) === UNDERSCORE)) i++;
    // `1..2` is 1, `..`, 2 (numericfail), so a dot followed by a dot is not ours.
    if (text.charCodeAt(i) === DOT && text.charCodeAt(i + 1) !== DOT) {
      i++;
      while (i < length && (isDigit(text.charCodeAt(i)) || text.charCodeAt(i) === UNDERSCORE)) {
        i++;
      }
    }
    const e = text.charCodeAt(i) | 0x20;
    if (e === 101) {
      const sign = text.charCodeAt(i + 1);
      const digitAt = sign === PLUS || sign === MINUS ? i + 2 : i + 1;
      if (isDigit(text.charCodeAt(digitAt))) i = digitAt;
    }
  }
  // `$` is no junk: `1$$…$$` is a number then a dollar quote.
  while (i < length && isTagChar(text.charCodeAt(i))) i++;
  return i;
}

/** End of an identifier or keyword starting at `start`. */
function identifierEnd(text: string, start: number): number {
  const length = text.length;
  let i = start + 1;
  while (i < length && isIdentChar(text.charCodeAt(i))) i++;
  return i;
}

/**
 * The `$tag$` opening a dollar quote at `start` (`$$` included), or undefined when `start` is
 * not one; `$1` is a parameter and a lone `$` is not SQL.
 */
function dollarTag(text: string, start: number): string | undefined {
  const first = text.charCodeAt(start + 1);
  if (first === DOLLAR) return '$$';
  if (!isIdentStart(first)) return undefined;
  let i = start + 2;
  while (i < text.length && isTagChar(text.charCodeAt(i))) i++;
  return text.charCodeAt(i) === DOLLAR ? text.slice(start, i + 1) : undefined;
}

function token(kind: SqlTokenKind, start: number, end: number): SqlToken {
  return { kind, start, end };
}

/** A quoted string whose opening quote is at `quote`; the token starts at `start` (its prefix). */
function quotedString(text: string, start: number, quote: number, quoting: Quoting): SqlToken {
  const end = stringEnd(text, quote + 1, quoting);
  return end < 0 ? token('incomplete', start, text.length) : token('string', start, end);
}

/** The token starting at `start` (`start` < text.length). */
export function scanSqlToken(text: string, start: number): SqlToken {
  const c = text.charCodeAt(start);
  const next = text.charCodeAt(start + 1);
  if (isSpace(c)) {
    let i = start + 1;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    return token('whitespace', start, i);
  }
  if (isIdentStart(c)) {
    // One-letter prefixes win over an identifier only when the quote follows at once.
    if (next === QUOTE) {
      switch (c | 0x20) {
        case 101: // e
          return quotedString(text, start, start + 1, 'escaped');
        case 98: // b
        case 120: // x
          return quotedString(text, start, start + 1, 'bits');
        case 110: // n
          return quotedString(text, start, start + 1, 'standard');
        default:
          break;
      }
    } else if ((c | 0x20) === 117 && next === AMP) {
      const quote = text.charCodeAt(start + 2);
      if (quote === QUOTE) return quotedString(text, start, start + 2, 'standard');
      if (quote === DQUOTE) {
        return token('quoted-identifier', start, quotedIdentifierEnd(text, start + 3));
      }
    }
    return token('identifier', start, identifierEnd(text, start));
  }
  if (isDigit(c) || (c === DOT && isDigit(next))) {
    return token('number', start, numberEnd(text, start));
  }
  switch (c) {
    case QUOTE:
      return quotedString(text, start, start, 'standard');
    case DQUOTE:
      return token('quoted-identifier', start, quotedIdentifierEnd(text, start + 1));
    case DOLLAR: {
      if (isDigit(next)) {
        let i = start + 2;
        while (i < text.length && isDigit(text.charCodeAt(i))) i++;
        return token('parameter', start, i);
      }
      const tag = dollarTag(text, start);
      if (tag === undefined) return token('operator', start, start + 1);
      const close = text.indexOf(tag, start + tag.length);
      return close < 0
        ? token('incomplete', start, text.length)
        : token('string', start, close + tag.length);
    }
    case LPAREN:
    case RPAREN:
    case LBRACKET:
    case RBRACKET:
    case COMMA:
    case SEMI:
      return token('punctuation', start, start + 1);
    case COLON:
      return token('operator', start, next === COLON || next === EQ ? start + 2 : start + 1);
    case DOT:
      return token('operator', start, next === DOT ? start + 2 : start + 1);
    case MINUS:
      if (next === MINUS) {
        const newline = text.indexOf('\n', start + 2);
        const cr = text.indexOf('\r', start + 2);
        const stop = newline < 0 ? cr : cr < 0 ? newline : Math.min(newline, cr);
        return token('line-comment', start, stop < 0 ? text.length : stop);
      }
      break;
    case SLASH:
      if (next === STAR) return token('block-comment', start, blockCommentEnd(text, start));
      break;
    default:
      break;
  }
  if (isOpChar(c)) {
    // An operator stops where a comment starts, as in scan.l.
    let i = start + 1;
    while (i < text.length) {
      const o = text.charCodeAt(i);
      if (!isOpChar(o)) break;
      const after = text.charCodeAt(i + 1);
      if ((o === MINUS && after === MINUS) || (o === SLASH && after === STAR)) break;
      i++;
    }
    return token('operator', start, i);
  }
  // Not SQL (`\`, `{`, a stray `$`…): one character, so the caller keeps moving.
  return token('operator', start, start + 1);
}

/** Every token of `text`, covering it end to end; never throws. */
export function lexSql(text: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let position = 0;
  while (position < text.length) {
    const next = scanSqlToken(text, position);
    tokens.push(next);
    position = next.end;
  }
  return tokens;
}
