/**
 * A lexer for PostgreSQL's SQL, as far as routing needs it: words, quoted identifiers, literals,
 * parameters and punctuation, with comments and whitespace dropped. It follows PostgreSQL's own
 * lexer (scan.l) for everything that can hide text: nested block comments, line comments,
 * standard and E'' strings (with their continuation over a newline), U&'' strings, quoted and
 * U&"" identifiers, and dollar quotes. One pass over the char codes, with no backtracking: each
 * character is looked at a bounded number of times, so a hostile input (thousands of unclosed
 * quotes) costs no more than a long query. Anything unterminated runs to the end of the text,
 * as it would on the server (which then rejects the statement).
 */

export enum TokenType {
  /** An unquoted identifier or keyword; its text is lower-cased. */
  Word,
  /** A "quoted" identifier; its text is the name as written, with "" undoubled. */
  QuotedIdent,
  /** Any string literal, bit string or dollar-quoted string; its text is empty (never looked at). */
  Literal,
  Number,
  /** $1, $2, …: its text is empty. */
  Param,
  /** One character of punctuation or operator, or `::`; its text is the characters. */
  Punct,
}

export interface Tokens {
  readonly types: TokenType[];
  readonly texts: string[];
  /**
   * A standard string held a backslash: with standard_conforming_strings off the server would read
   * it as an escape, so the caller can classify the text both ways.
   */
  readonly backslashInString: boolean;
}

const SPACE = 32;
const TAB = 9;
const LF = 10;
const VT = 11;
const FF = 12;
const CR = 13;
const QUOTE = 39; // '
const DQUOTE = 34; // "
const DOLLAR = 36;
const BACKSLASH = 92;
const DASH = 45;
const SLASH = 47;
const STAR = 42;
const DOT = 46;
const COLON = 58;
const AMP = 38;

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || c === FF || c === VT;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
/** ident_start of scan.l: letters, underscore and any non-ASCII character. */
function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
}
/** dolq_cont: a dollar-quote tag may not contain `$`. */
function isTagChar(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
/** ident_cont: identifiers may contain digits and `$`. */
function isIdentChar(c: number): boolean {
  return isTagChar(c) || c === DOLLAR;
}

/**
 * `backslashEscapes`: read standard strings as standard_conforming_strings = off would (a
 * backslash escapes the next character). E'' strings always take backslash escapes.
 */
export function tokenize(sql: string, backslashEscapes = false): Tokens {
  const types: TokenType[] = [];
  const texts: string[] = [];
  let backslashInString = false;
  const n = sql.length;
  let i = 0;

  /**
   * The end of a string literal whose body starts at `from`. A string closed and followed by
   * whitespace holding a newline and another quote goes on (PostgreSQL's quote continuation), in
   * the same escape mode.
   */
  const endOfString = (from: number, escapes: boolean): number => {
    let j = from;
    for (;;) {
      while (j < n) {
        const c = sql.charCodeAt(j);
        if (c === BACKSLASH) {
          if (!escapes) backslashInString = true;
          j += escapes ? 2 : 1;
        } else if (c === QUOTE) {
          if (sql.charCodeAt(j + 1) === QUOTE) j += 2;
          else break;
        } else j++;
      }
      if (j >= n) return n;
      const next = continuation(j + 1);
      if (next < 0) return j + 1;
      j = next;
    }
  };

  /** After a closing quote at `from - 1`: where the continued string's body starts, or -1. */
  const continuation = (from: number): number => {
    let j = from;
    let newline = false;
    while (j < n) {
      const c = sql.charCodeAt(j);
      if (c === LF || c === CR) {
        newline = true;
        j++;
      } else if (isSpace(c)) j++;
      else if (newline && c === DASH && sql.charCodeAt(j + 1) === DASH) {
        while (j < n && sql.charCodeAt(j) !== LF && sql.charCodeAt(j) !== CR) j++;
      } else break;
    }
    return newline && j < n && sql.charCodeAt(j) === QUOTE ? j + 1 : -1;
  };

  const endOfQuotedIdent = (from: number): { end: number; name: string } => {
    let j = from;
    let name = '';
    let start = from;
    while (j < n) {
      if (sql.charCodeAt(j) === DQUOTE) {
        name += sql.slice(start, j);
        if (sql.charCodeAt(j + 1) !== DQUOTE) return { end: j + 1, name };
        name += '"';
        j += 2;
        start = j;
      } else j++;
    }
    return { end: n, name: name + sql.slice(start, n) };
  };

  const push = (type: TokenType, text: string): void => {
    types.push(type);
    texts.push(text);
  };

  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === DASH && sql.charCodeAt(i + 1) === DASH) {
      i += 2;
      while (i < n && sql.charCodeAt(i) !== LF && sql.charCodeAt(i) !== CR) i++;
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      // Block comments nest in PostgreSQL: /* a /* b */ still comment */.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        const d = sql.charCodeAt(i);
        if (d === SLASH && sql.charCodeAt(i + 1) === STAR) {
          depth++;
          i += 2;
        } else if (d === STAR && sql.charCodeAt(i + 1) === SLASH) {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
      const next = sql.charCodeAt(j);
      if (j === i + 1 && next === QUOTE) {
        // E'…' takes backslash escapes; B'…', X'…' and N'…' are read as standard strings.
        const extended = c === 101 || c === 69;
        i = endOfString(j + 1, extended || backslashEscapes);
        push(TokenType.Literal, '');
      } else if (j === i + 1 && (c === 117 || c === 85) && next === AMP && sql.charCodeAt(j + 1) === QUOTE) {
        i = endOfString(j + 2, backslashEscapes);
        push(TokenType.Literal, '');
      } else if (j === i + 1 && (c === 117 || c === 85) && next === AMP && sql.charCodeAt(j + 1) === DQUOTE) {
        // U&"…": the name is written with escapes; it never names a known function, and the
        // caller only compares it.
        const ident = endOfQuotedIdent(j + 2);
        i = ident.end;
        push(TokenType.QuotedIdent, `U&${ident.name}`);
      } else {
        push(TokenType.Word, sql.slice(i, j).toLowerCase());
        i = j;
      }
    } else if (c === QUOTE) {
      i = endOfString(i + 1, backslashEscapes);
      push(TokenType.Literal, '');
    } else if (c === DQUOTE) {
      const ident = endOfQuotedIdent(i + 1);
      i = ident.end;
      push(TokenType.QuotedIdent, ident.name);
    } else if (c === DOLLAR) {
      i = dollar(sql, i, push);
    } else if (isDigit(c) || (c === DOT && isDigit(sql.charCodeAt(i + 1)))) {
      // Digits, a decimal point, an exponent, 0x/0o/0b prefixes and _ separators: all one token.
      let j = i + 1;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (isTagChar(d) || (d === DOT && sql.charCodeAt(j + 1) !== DOT)) j++;
        else if ((d === 43 || d === DASH) && (sql.charCodeAt(j - 1) | 32) === 101) j++;
        else break;
      }
      push(TokenType.Number, '');
      i = j;
    } else if (c === COLON && sql.charCodeAt(i + 1) === COLON) {
      push(TokenType.Punct, '::');
      i += 2;
    } else {
      push(TokenType.Punct, sql[i]);
      i++;
    }
  }
  return { types, texts, backslashInString };
}

/** At a `$`: a parameter ($1), a dollar-quoted string ($$…$$, $tag$…$tag$), or a lone `$`. */
function dollar(sql: string, i: number, push: (type: TokenType, text: string) => void): number {
  const n = sql.length;
  let j = i + 1;
  if (isDigit(sql.charCodeAt(j))) {
    while (j < n && isDigit(sql.charCodeAt(j))) j++;
    push(TokenType.Param, '');
    return j;
  }
  if (j < n && isIdentStart(sql.charCodeAt(j))) {
    j++;
    while (j < n && isTagChar(sql.charCodeAt(j))) j++;
  }
  if (sql.charCodeAt(j) !== DOLLAR) {
    push(TokenType.Punct, '$');
    return i + 1;
  }
  const tag = sql.slice(i, j + 1);
  // indexOf scans forward once: an unclosed quote takes the rest of the text, and stops there.
  const close = sql.indexOf(tag, j + 1);
  push(TokenType.Literal, '');
  return close < 0 ? n : close + tag.length;
}
