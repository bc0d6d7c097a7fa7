import { TokenType, Tokens, tokenize } from './sql-tokenizer.js';
import { classifyPart, WRITE } from './statement-part.js';

/**
 * Where a statement may run:
 * - `read`: on a replica (SELECT, WITH without data-modifying parts, SHOW, EXPLAIN, …);
 * - `write`: on the primary only, and it pins (changes data or schema, takes row locks, starts a
 *   transaction, calls a primary-only or data-changing function, SELECT INTO, LISTEN/NOTIFY, and
 *   anything not recognised: sending a read to the primary costs little, a write to a replica fails);
 * - `session`: transaction or session control that follows whatever connection came before
 *   (COMMIT, ROLLBACK, SAVEPOINT, RELEASE, SET, RESET, DISCARD, DEALLOCATE, EXECUTE, …).
 */
export type StatementKind = 'read' | 'write' | 'session';

export interface StatementClass {
  readonly kind: StatementKind;
  /** A transaction is open after the text that it started (BEGIN, START TRANSACTION); kind is then 'write'. */
  readonly beginsTransaction: boolean;
  /**
   * The text ends the transaction open before it: 'commit' for COMMIT / END (not COMMIT PREPARED,
   * not COMMIT AND CHAIN) and PREPARE TRANSACTION, 'rollback' for ROLLBACK / ABORT (not ROLLBACK
   * TO SAVEPOINT, not ROLLBACK PREPARED).
   */
  readonly endsTransaction?: 'commit' | 'rollback';
  /**
   * State left on the connection beyond the transaction. 'replayable': the text is only plain SET,
   * RESET, DISCARD (SET ROLE, SET SESSION AUTHORIZATION, …; not SET LOCAL, SET TRANSACTION, SET
   * CONSTRAINTS), which sent again verbatim on another connection carries the state. 'sticky':
   * state that cannot be carried so (set_config() or setseed() in a query, PREPARE, DECLARE … WITH
   * HOLD, CREATE TEMP …, SELECT … INTO TEMP, LISTEN, session-level advisory locks, …).
   */
  readonly sessionState?: 'replayable' | 'sticky';
  /**
   * Kind 'read' (or 'session'), but it calls a function not known to be read-only (a user's
   * `my_fn()`): sent to the primary it may write, so routing treats it as a write there. On a
   * replica the server itself refuses a write (SQLSTATE 25006).
   */
  readonly mayWrite: boolean;
}

// TypeORM sends the same few texts again and again, with $n parameters: most lookups hit.
const MAX_CACHED = 2000;
const MAX_CACHED_LENGTH = 8192;
const cache = new Map<string, StatementClass>();

/**
 * The class of a statement text, which may hold several statements separated by `;` (their
 * classes are combined: any write makes it a write). Linear in the length of the text.
 */
export function classifyStatement(sql: string): StatementClass {
  const cached = cache.get(sql);
  if (cached) return cached;
  const result = classifyText(sql);
  if (sql.length <= MAX_CACHED_LENGTH) {
    // Clearing when full is cheap and keeps the hot texts: they are back after one miss each.
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(sql, result);
  }
  return result;
}

function classifyText(sql: string): StatementClass {
  const tokens = tokenize(sql);
  const standard = classifyTokens(tokens);
  if (!tokens.backslashInString) return standard;
  // A backslash in a '…' string escapes the next character when standard_conforming_strings is
  // off: the text may then split differently. The more cautious reading of the two wins.
  return combine([standard, classifyTokens(tokenize(sql, true))], true);
}

/**
 * Splits at each `;` that ends a statement: not one inside parentheses (CREATE RULE … DO (…; …))
 * nor inside a CREATE FUNCTION's BEGIN ATOMIC … END body.
 */
function classifyTokens(tokens: Tokens): StatementClass {
  const { types, texts } = tokens;
  const parts: StatementClass[] = [];
  let start = 0;
  let depth = 0;
  let atomic = 0;
  const n = types.length;
  for (let k = 0; k <= n; k++) {
    const type = types[k];
    if (k < n && type === TokenType.Punct) {
      const text = texts[k];
      if (text === '(') depth++;
      else if (text === ')') depth = Math.max(0, depth - 1);
      if (text !== ';' || depth > 0 || atomic > 0) continue;
    } else if (k < n) {
      if (type === TokenType.Word && types[start] === TokenType.Word && texts[start] === 'create') {
        const text = texts[k];
        if (text === 'atomic' && texts[k - 1] === 'begin') atomic++;
        else if (atomic > 0 && text === 'case') atomic++;
        else if (atomic > 0 && text === 'end') atomic--;
      }
      continue;
    }
    if (k > start) parts.push(classifyPart(tokens, start, k));
    start = k + 1;
  }
  return combine(parts, false);
}

/**
 * Several statements of one text, in order (or, with `alternatives`, two readings of one text):
 * any write makes a write, then any session statement a session one. A transaction is begun if the
 * last BEGIN comes after the last end, and ended if an end comes before any BEGIN.
 */
function combine(parts: StatementClass[], alternatives: boolean): StatementClass {
  if (parts.length === 0) return WRITE; // nothing but comments: unknown
  if (parts.length === 1) return parts[0];
  let kind: StatementKind = 'read';
  let mayWrite = false;
  let sticky = false;
  let replayable = true;
  let beginsTransaction = false;
  let endsTransaction: StatementClass['endsTransaction'];
  let begun = false;
  for (const part of parts) {
    if (part.kind === 'write') kind = 'write';
    else if (part.kind === 'session' && kind === 'read') kind = 'session';
    mayWrite ||= part.mayWrite;
    sticky ||= part.sessionState === 'sticky';
    replayable &&= part.sessionState === 'replayable';
    if (alternatives) {
      beginsTransaction ||= part.beginsTransaction;
      endsTransaction ??= part.endsTransaction;
      continue;
    }
    if (part.endsTransaction) {
      if (!begun) endsTransaction ??= part.endsTransaction;
      beginsTransaction = false;
    }
    if (part.beginsTransaction) {
      beginsTransaction = true;
      begun = true;
    }
  }
  // Replaying a text that also reads or writes would run those again: only SET-like texts replay.
  const sessionState = sticky ? 'sticky' : replayable ? 'replayable' : parts.some((p) => p.sessionState) ? 'sticky' : undefined;
  return Object.freeze({
    kind,
    beginsTransaction,
    mayWrite: mayWrite && kind !== 'write',
    ...(endsTransaction ? { endsTransaction } : {}),
    ...(sessionState ? { sessionState } : {}),
  });
}
