import { CALL_MAY_WRITE, CALL_STICKY, CALL_WRITES, callEffect } from './sql-functions.js';
import { TokenType, Tokens } from './sql-tokenizer.js';
import { BEFORE_TABLE_FUNCTION, CLAUSES, DATA_CHANGING, NOT_CALLS } from './sql-words.js';
import type { StatementClass, StatementKind } from './statement-kind.js';

function statementClass(kind: StatementKind, extra: Partial<Omit<StatementClass, 'kind'>> = {}): StatementClass {
  return Object.freeze({ kind, beginsTransaction: false, mayWrite: false, ...extra });
}

export const WRITE = statementClass('write');
const WRITE_STICKY = statementClass('write', { sessionState: 'sticky' });
const READ = statementClass('read');
const READ_MAY_WRITE = statementClass('read', { mayWrite: true });
const READ_STICKY = statementClass('read', { sessionState: 'sticky' });
const READ_MAY_WRITE_STICKY = statementClass('read', { mayWrite: true, sessionState: 'sticky' });
const SESSION = statementClass('session');
const SESSION_REPLAYABLE = statementClass('session', { sessionState: 'replayable' });
const BEGIN = statementClass('write', { beginsTransaction: true });
const COMMIT = statementClass('session', { endsTransaction: 'commit' });
const ROLLBACK = statementClass('session', { endsTransaction: 'rollback' });
// PREPARE TRANSACTION hands the transaction over to COMMIT PREPARED: the session is out of it.
const PREPARE_TRANSACTION = statementClass('write', { endsTransaction: 'commit' });

/** What a query (SELECT, VALUES, TABLE, WITH, or the query of a COPY, DECLARE, …) was seen to do. */
interface QueryEffect {
  writes: boolean;
  mayWrite: boolean;
  sticky: boolean;
}

/** One statement: the tokens [from, to) of `tokens`, without its `;`. */
export function classifyPart(tokens: Tokens, from: number, to: number): StatementClass {
  const { types, texts } = tokens;
  const word = (k: number): string => (k < to && types[k] === TokenType.Word ? texts[k] : '');
  let k = from;
  while (k < to && types[k] === TokenType.Punct && texts[k] === '(') k++;
  switch (word(k)) {
    case 'select':
    case 'values':
    case 'table':
    case 'with':
      return fromQuery(scanQuery(tokens, from, to));
    case 'show':
    case 'fetch':
    case 'move':
    case 'close':
      return READ;
    case 'explain':
      return explain(tokens, k + 1, to);
    case 'declare':
      return declare(tokens, k + 1, to);
    case 'prepare':
      return prepare(tokens, k + 1, to);
    case 'copy':
      return copy(tokens, k + 1, to);
    case 'execute': // runs a statement PREPAREd on this connection: it must follow it
    case 'deallocate':
    case 'savepoint':
    case 'release':
    case 'unlisten':
      return SESSION;
    case 'set':
      return set(word(k + 1));
    case 'reset':
    case 'discard':
      return SESSION_REPLAYABLE;
    case 'begin':
      return BEGIN;
    case 'start':
      return word(k + 1) === 'transaction' ? BEGIN : WRITE;
    case 'commit':
    case 'end':
      if (word(k + 1) === 'prepared') return WRITE;
      return chains(tokens, k + 1, to) ? SESSION : COMMIT;
    case 'rollback':
    case 'abort':
      if (word(k + 1) === 'prepared') return WRITE;
      if (hasWord(tokens, k + 1, to, 'to')) return SESSION; // ROLLBACK TO SAVEPOINT
      return chains(tokens, k + 1, to) ? SESSION : ROLLBACK;
    case 'listen':
      return WRITE_STICKY;
    case 'create':
      return createsTemp(word, k + 1) ? WRITE_STICKY : WRITE;
    case 'insert':
    case 'update':
    case 'delete':
    case 'merge':
      // A write whatever it calls; only the session state its calls leave is of interest.
      return scanQuery(tokens, k, to).sticky ? WRITE_STICKY : WRITE;
    default:
      // Anything not recognised needs the primary: sending a read there costs little, sending a write to a replica fails.
      return WRITE;
  }
}

function fromQuery(effect: QueryEffect): StatementClass {
  if (effect.writes) return effect.sticky ? WRITE_STICKY : WRITE;
  if (effect.mayWrite) return effect.sticky ? READ_MAY_WRITE_STICKY : READ_MAY_WRITE;
  return effect.sticky ? READ_STICKY : READ;
}

/**
 * Walks a query once. It needs the primary when it names a data-changing statement (a CTE's
 * INSERT, FOR UPDATE), has a locking clause (FOR SHARE, FOR KEY SHARE, FOR NO KEY UPDATE),
 * creates a table (SELECT … INTO) or calls a primary-only function. It may write when it calls a
 * function not known to be read-only. `name(` is a call except after `::` or AS (a type modifier,
 * an alias's column list), for a CTE's column list, and in FROM after a table name or alias.
 */
function scanQuery(tokens: Tokens, from: number, to: number): QueryEffect {
  const { types, texts } = tokens;
  const effect: QueryEffect = { writes: false, mayWrite: false, sticky: false };
  // The clause each open parenthesis is in: what `name(` means depends on it.
  const clauses: string[] = [''];
  const word = (k: number): string => (k < to && types[k] === TokenType.Word ? texts[k] : '');
  for (let k = from; k < to; k++) {
    const type = types[k];
    const text = texts[k];
    if (type === TokenType.Punct) {
      if (text === '(') clauses.push('');
      else if (text === ')' && clauses.length > 1) clauses.pop();
      continue;
    }
    if (type === TokenType.Word) {
      if (DATA_CHANGING.has(text)) effect.writes = true;
      else if (text === 'into') {
        effect.writes = true;
        const next = word(k + 1);
        if (next === 'temp' || next === 'temporary' || next === 'local' || next === 'global') effect.sticky = true;
      } else if (text === 'for') {
        const next = word(k + 1);
        if (next === 'share' || next === 'key' || next === 'no') effect.writes = true;
      }
      // IS [NOT] DISTINCT FROM is an operator, not a FROM clause.
      if (CLAUSES.has(text) && !(text === 'from' && k > from && texts[k - 1] === 'distinct')) clauses[clauses.length - 1] = text === 'join' ? 'from' : text;
      // WITH opens a list of CTEs only at the start of a (sub)query; elsewhere it is WITH ORDINALITY, WITH TIES, …
      else if (text === 'with' && (k === from || (types[k - 1] === TokenType.Punct && texts[k - 1] === '('))) clauses[clauses.length - 1] = 'with';
    } else if (type !== TokenType.QuotedIdent) continue;
    if (k + 1 >= to || types[k + 1] !== TokenType.Punct || texts[k + 1] !== '(') continue;
    if (type === TokenType.Word && NOT_CALLS.has(text)) continue;
    const clause = clauses[clauses.length - 1];
    if (!isCall(tokens, from, k, clause)) continue;
    const qualified = k - 2 >= from && types[k - 1] === TokenType.Punct && texts[k - 1] === '.';
    const schema = qualified && (types[k - 2] === TokenType.Word || types[k - 2] === TokenType.QuotedIdent) ? texts[k - 2] : qualified ? '' : undefined;
    const call = callEffect(text, schema);
    if (call & CALL_WRITES) effect.writes = true;
    if (call & CALL_MAY_WRITE) effect.mayWrite = true;
    if (call & CALL_STICKY) effect.sticky = true;
  }
  return effect;
}

/** Whether the name at `k`, followed by `(`, is a function call in `clause`. */
function isCall(tokens: Tokens, from: number, k: number, clause: string): boolean {
  if (k === from) return true;
  const { types, texts } = tokens;
  const prevType = types[k - 1];
  const prev = texts[k - 1];
  if (prevType === TokenType.Punct && prev === '::') return false; // a type modifier: x::numeric(10, 2)
  if (prevType === TokenType.Word && prev === 'as') return false; // AS alias(a, b), CAST(x AS varchar(10))
  if (clause === 'with' && ((prevType === TokenType.Word && (prev === 'with' || prev === 'recursive')) || (prevType === TokenType.Punct && prev === ','))) {
    return false; // WITH t(a, b) AS (…)
  }
  if (clause === 'from') {
    // FROM note n(a, b), FROM (VALUES …) v(a), FROM "t" x(a): a column list
    if (prevType === TokenType.QuotedIdent || (prevType === TokenType.Punct && prev === ')')) return false;
    // After a table name or alias, not after a keyword (AND, ZONE, …: a FROM inside EXTRACT(… FROM …) is followed by an expression).
    if (prevType === TokenType.Word && !BEFORE_TABLE_FUNCTION.has(prev) && (!NOT_CALLS.has(prev) || prev === 'ordinality')) return false;
  }
  return true;
}

/** EXPLAIN runs its statement only with ANALYZE; without, it plans it: a read (but for temporary tables). */
function explain(tokens: Tokens, k: number, to: number): StatementClass {
  const { types, texts } = tokens;
  let analyze = false;
  if (k < to && types[k] === TokenType.Punct && texts[k] === '(') {
    let depth = 0;
    for (; k < to; k++) {
      if (types[k] === TokenType.Punct && texts[k] === '(') depth++;
      else if (types[k] === TokenType.Punct && texts[k] === ')') {
        if (--depth === 0) {
          k++;
          break;
        }
      } else if (types[k] === TokenType.Word && (texts[k] === 'analyze' || texts[k] === 'analyse')) {
        const value = types[k + 1] === TokenType.Word ? texts[k + 1] : '';
        analyze = value !== 'false' && value !== 'off';
      }
    }
  } else {
    while (k < to && types[k] === TokenType.Word && (texts[k] === 'analyze' || texts[k] === 'analyse' || texts[k] === 'verbose')) {
      if (texts[k] !== 'verbose') analyze = true;
      k++;
    }
  }
  const inner = classifyPart(tokens, k, to);
  if (inner.kind === 'session' || analyze) return inner;
  // Planning SELECT … INTO TEMP or CREATE TEMP TABLE … AS already creates the session's temporary schema.
  return inner.kind === 'write' && inner.sessionState === 'sticky' ? inner : READ;
}

/** DECLARE name … CURSOR [WITH HOLD] FOR query: the query's class; a holdable cursor outlives the transaction. */
function declare(tokens: Tokens, k: number, to: number): StatementClass {
  const { types, texts } = tokens;
  let hold = false;
  for (; k < to; k++) {
    if (types[k] !== TokenType.Word) continue;
    if (texts[k] === 'hold' && texts[k - 1] === 'with') hold = true;
    if (texts[k] === 'for') break;
  }
  if (k >= to) return WRITE;
  const inner = classifyPart(tokens, k + 1, to);
  return hold ? { ...inner, sessionState: 'sticky' } : inner;
}

/** PREPARE name [(types)] AS statement: the statement's class, and it leaves a prepared statement on the connection. */
function prepare(tokens: Tokens, k: number, to: number): StatementClass {
  const { types, texts } = tokens;
  if (types[k] === TokenType.Word && texts[k] === 'transaction') return PREPARE_TRANSACTION;
  let depth = 0;
  for (; k < to; k++) {
    if (types[k] === TokenType.Punct) {
      if (texts[k] === '(') depth++;
      else if (texts[k] === ')') depth--;
    } else if (depth === 0 && types[k] === TokenType.Word && texts[k] === 'as') break;
  }
  if (k >= to) return WRITE;
  return { ...classifyPart(tokens, k + 1, to), sessionState: 'sticky' };
}

/** COPY … FROM loads rows: a write. COPY table TO and COPY (query) TO only read (the query's class). */
function copy(tokens: Tokens, k: number, to: number): StatementClass {
  const { types, texts } = tokens;
  const query = k < to && types[k] === TokenType.Punct && texts[k] === '(';
  let depth = 0;
  let queryEnd = k;
  for (let j = k; j < to; j++) {
    if (types[j] === TokenType.Punct) {
      if (texts[j] === '(') depth++;
      else if (texts[j] === ')' && --depth === 0 && queryEnd === k) queryEnd = j;
    } else if (depth === 0 && types[j] === TokenType.Word) {
      if (texts[j] === 'from') return WRITE;
      if (texts[j] === 'to') return query ? fromQuery(scanQuery(tokens, k + 1, queryEnd)) : READ;
    }
  }
  return WRITE;
}

/**
 * SET LOCAL, SET TRANSACTION and SET CONSTRAINTS last until the transaction ends; any other SET
 * (SET SESSION …, SET ROLE, SET SESSION AUTHORIZATION, SET SESSION CHARACTERISTICS) stays with the session.
 */
function set(first: string): StatementClass {
  return first === 'local' || first === 'transaction' || first === 'constraints' ? SESSION : SESSION_REPLAYABLE;
}

/** COMMIT AND CHAIN, ROLLBACK AND CHAIN: a new transaction starts at once, on the same connection. */
function chains(tokens: Tokens, k: number, to: number): boolean {
  for (; k + 1 < to; k++) {
    if (tokens.types[k] === TokenType.Word && tokens.texts[k] === 'and' && tokens.types[k + 1] === TokenType.Word && tokens.texts[k + 1] === 'chain')
      return true;
  }
  return false;
}

function hasWord(tokens: Tokens, k: number, to: number, wanted: string): boolean {
  for (; k < to; k++) if (tokens.types[k] === TokenType.Word && tokens.texts[k] === wanted) return true;
  return false;
}

/** CREATE [OR REPLACE] [GLOBAL | LOCAL] TEMP[ORARY] …: the object lives as long as the session. */
function createsTemp(word: (k: number) => string, k: number): boolean {
  if (word(k) === 'or' && word(k + 1) === 'replace') k += 2;
  if (word(k) === 'global' || word(k) === 'local') k++;
  return word(k) === 'temp' || word(k) === 'temporary';
}
