/**
 * What a statement does to routing:
 * - `read`: may run on a replica (SELECT, WITH without data-modifying parts, SHOW, EXPLAIN, …);
 * - `write`: changes data or schema, opens a transaction or takes row locks: primary only, and it pins;
 * - `session`: transaction and session control that follows whatever came before (COMMIT, SET, …).
 * Anything not recognised is a write: sending a read to the primary costs little, sending a
 * write to a replica fails.
 */
export type StatementKind = 'read' | 'write' | 'session';

const READ_HEADS = new Set(['SELECT', 'VALUES', 'TABLE', 'SHOW', 'FETCH', 'MOVE', 'CLOSE']);
const SESSION_HEADS = new Set(['COMMIT', 'END', 'ROLLBACK', 'ABORT', 'RELEASE', 'SAVEPOINT', 'SET', 'RESET', 'DISCARD', 'DEALLOCATE', 'LISTEN', 'UNLISTEN']);
const LOCKING_CLAUSE = /\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b/i;
const DATA_MODIFYING = /\b(?:INSERT|UPDATE|DELETE|MERGE)\b/i;
const ANALYZE = /\bANALY[SZ]E\b/i;
const HEAD = /^[\s(]*([A-Za-z]+)/;

export function statementKind(sql: string): StatementKind {
  const leading = HEAD.exec(sql);
  const head = (leading ? leading[1] : HEAD.exec(stripCommentsAndLiterals(sql))?.[1])?.toUpperCase();
  if (!head) return 'write';
  if (SESSION_HEADS.has(head)) return 'session';
  if (head === 'EXPLAIN') return mentions(sql, ANALYZE) && mentions(sql, DATA_MODIFYING) ? 'write' : 'read';
  if (head === 'WITH') return mentions(sql, DATA_MODIFYING) || mentions(sql, LOCKING_CLAUSE) ? 'write' : 'read';
  if (READ_HEADS.has(head)) return mentions(sql, LOCKING_CLAUSE) ? 'write' : 'read';
  return 'write';
}

/**
 * Whether the statement's own text (not a comment, string or quoted identifier) matches. The raw
 * text is tried first: most statements do not match at all, and then nothing needs stripping.
 */
function mentions(sql: string, pattern: RegExp): boolean {
  return pattern.test(sql) && pattern.test(stripCommentsAndLiterals(sql));
}

/** Comments, string literals and quoted identifiers could hold any keyword: blank them out. */
function stripCommentsAndLiterals(sql: string): string {
  return sql
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, "''")
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""');
}
