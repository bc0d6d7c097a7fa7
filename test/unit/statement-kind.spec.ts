import { PRIMARY_ONLY_FUNCTIONS } from '../../lib/routing/sql-functions.js';
import { NOT_CALLS } from '../../lib/routing/sql-words.js';
import { classifyStatement, StatementClass } from '../../lib/routing/statement-kind.js';

const READS = [
  'SELECT "Note"."id" AS "Note_id" FROM "note" "Note" WHERE "Note"."id" = $1 LIMIT 1',
  'select 1',
  '  (SELECT 1) UNION (SELECT 2)',
  'WITH recent AS (SELECT * FROM note) SELECT * FROM recent',
  'WITH t(a, b) AS (SELECT 1, 2), u(c) AS MATERIALIZED (SELECT 3) SELECT * FROM t, u',
  'SHOW search_path',
  'VALUES (1), (2)',
  'TABLE note',
  'FETCH 10 FROM c',
  'MOVE NEXT IN c',
  'CLOSE c',
  'EXPLAIN SELECT * FROM note',
  'EXPLAIN DELETE FROM note',
  "EXPLAIN SELECT nextval('s')",
  'EXPLAIN (ANALYZE false) DELETE FROM note',
  'EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM note',
  '/* a comment */ SELECT 1',
  '-- a comment\nSELECT 1',
  "SELECT 'FOR UPDATE' AS text",
  'SELECT "for update" FROM t',
  "SELECT * FROM note WHERE text = 'INSERT'",
  '/* /* */ DELETE */ SELECT 1',
  '/* a /* b */ still comment; DELETE FROM t */ SELECT 1',
  'SELECT $$; DELETE FROM t$$',
  'SELECT $tag$ $$ ; DELETE FROM t $tag$',
  "SELECT E'\\'; DELETE FROM t; --'",
  "SELECT 'a'\n'; DELETE FROM t'",
  "SELECT U&'\\0041; DELETE'",
  'SELECT "a""; DELETE" FROM t',
  'SELECT $1, a$b, c$1 FROM t WHERE x = $2',
  "SELECT 'it''s; DELETE'",
  'SELECT * FROM generate_series(1, 3) g(x)',
  'SELECT * FROM note n(a, b)',
  'SELECT * FROM "note" "n"(a, b)',
  'SELECT * FROM (VALUES (1)) v(a)',
  'SELECT * FROM unnest(ARRAY[1]) WITH ORDINALITY u(x, n)',
  'SELECT * FROM f_table AS x(a int, b text)',
  "SELECT CAST(x AS numeric(10, 2)), x::varchar(5), coalesce(a, 1), extract(year FROM now()), substring('a' FROM 1 FOR 1)",
  'SELECT count(*) FILTER (WHERE a) OVER (PARTITION BY b), percentile_cont(0.5) WITHIN GROUP (ORDER BY c) FROM t',
  'SELECT x FROM t WHERE a IN (1, 2) AND EXISTS (SELECT 1) AND b = ANY (ARRAY[1])',
  'SELECT now(), random(), gen_random_uuid(), clock_timestamp(), pg_sleep(0), lower(text), pg_catalog.upper(text) FROM t',
  'SELECT txid_current_if_assigned()',
  'COPY note TO STDOUT',
  'COPY (SELECT * FROM note) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE (a))',
  'DECLARE c CURSOR FOR SELECT * FROM note',
  '',
].filter(Boolean);

const WRITES = [
  'INSERT INTO "note"("text") VALUES ($1) RETURNING "id"',
  'UPDATE note SET text = $1',
  'DELETE FROM note',
  'MERGE INTO note USING x ON true WHEN MATCHED THEN DELETE',
  'CREATE TABLE t (id int)',
  'ALTER TABLE t ADD c int',
  'DROP TABLE t',
  'TRUNCATE note',
  'SELECT * FROM note FOR UPDATE',
  'SELECT * FROM note FOR NO KEY UPDATE',
  'SELECT * FROM note FOR SHARE',
  'SELECT * FROM note FOR KEY SHARE SKIP LOCKED',
  'WITH moved AS (DELETE FROM note RETURNING *) SELECT * FROM moved',
  'WITH x AS (SELECT 1) INSERT INTO note (text) SELECT $1 FROM x',
  'EXPLAIN ANALYZE DELETE FROM note',
  'EXPLAIN (ANALYZE) UPDATE note SET a = 1',
  "EXPLAIN ANALYZE SELECT nextval('s')",
  'EXPLAIN SELECT 1 INTO TEMP t',
  'COPY note FROM STDIN',
  'COPY (INSERT INTO note DEFAULT VALUES RETURNING id) TO STDOUT',
  'CALL refresh_everything()',
  'DO $$ BEGIN PERFORM 1; END $$',
  'VACUUM note',
  'GRANT SELECT ON note TO reader',
  'LOCK TABLE note',
  'REFRESH MATERIALIZED VIEW v',
  'NOTIFY chan',
  "COMMIT PREPARED 'x'",
  "ROLLBACK PREPARED 'x'",
  '',
  '   ',
  '/* only a comment */',
  ';',
  'something unknown',
  "SELECT nextval('s')",
  "SELECT pg_catalog.nextval('s')",
  'SELECT "nextval"(\'s\')',
  "SELECT setval('s', 1), currval('s'), lastval()",
  "SELECT DISTINCT ON (id) nextval('s') FROM t",
  "SELECT 1 WHERE 1 IS DISTINCT FROM 2 AND nextval('s') > 0",
  "SELECT extract(epoch FROM now() AT TIME ZONE 'UTC') + nextval('s')",
  "SELECT substring('abc' FROM 1 FOR nextval('s')::int)",
  "VALUES (nextval('s'))",
  'SELECT a INTO t FROM x',
  'SELECT a INTO TEMP t FROM x',
  'SELECT 1; DELETE FROM t',
  "SELECT '--'; DELETE FROM t",
  "SELECT '/*'; DELETE FROM t",
  'SELECT "--"; DELETE FROM t',
  'SELECT 1 -- comment\n; DELETE FROM t',
  "SELECT E'\\\\'; DELETE FROM t",
  // standard_conforming_strings = off reads the backslash as an escape: the DELETE is then code.
  "SELECT '\\'; DELETE FROM t; --'",
  'SELECT pg_try_advisory_lock(1)',
  'SELECT pg_advisory_lock(1)',
  'SELECT pg_advisory_xact_lock(1)',
  'SELECT pg_advisory_unlock_all()',
  'SELECT pg_current_wal_lsn()',
  'SELECT pg_current_wal_insert_lsn()',
  'SELECT pg_current_wal_flush_lsn()',
  'SELECT txid_current()',
  'SELECT pg_current_xact_id()',
  "SELECT pg_notify('c', 'x')",
  "SELECT lo_create(0), lo_import('/x'), lo_unlink(1), lo_put(1, 0, 'x'), lo_from_bytea(0, 'x'), lowrite(0, 'x')",
  "SELECT pg_logical_emit_message(true, 'p', 'x')",
  'SELECT pg_switch_wal()',
  "SELECT pg_create_restore_point('r')",
  "SELECT pg_create_physical_replication_slot('s')",
  'SELECT binary_upgrade_set_next_pg_type_oid(1)',
  'WITH l AS (SELECT pg_advisory_lock(2)) SELECT * FROM l',
  'SELECT * FROM t WHERE pg_try_advisory_xact_lock(id)',
  'LISTEN chan',
  'BEGIN',
  'START TRANSACTION',
  "PREPARE TRANSACTION 'x'",
];

const SESSIONS = [
  'COMMIT',
  'ROLLBACK',
  'ROLLBACK TO SAVEPOINT typeorm_1',
  'RELEASE SAVEPOINT typeorm_1',
  'SAVEPOINT typeorm_1',
  'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE',
  'SET statement_timeout = 0',
  'RESET ALL',
  'END',
  'ABORT',
  'DISCARD ALL',
  'DEALLOCATE p',
  'EXECUTE p (1)',
  'UNLISTEN *',
];

/** Each property named in `expected` has that value; one named as undefined must be absent or undefined. */
function expectClass(sql: string, expected: Partial<StatementClass>): void {
  const actual = classifyStatement(sql);
  for (const [key, value] of Object.entries(expected)) expect([key, actual[key as keyof StatementClass]]).toEqual([key, value]);
}

describe('classifyStatement', () => {
  it.each(READS)('read: %s', (sql) => {
    expect(classifyStatement(sql)).toMatchObject({ kind: 'read', mayWrite: false });
  });
  it.each(WRITES)('write: %j', (sql) => expect(classifyStatement(sql).kind).toBe('write'));
  it.each(SESSIONS)('session: %s', (sql) => expect(classifyStatement(sql).kind).toBe('session'));

  it.each([
    'SELECT my_fn()',
    'SELECT public.my_fn()',
    'SELECT "My_Fn"(1)',
    'SELECT * FROM my_fn()',
    'SELECT * FROM t, LATERAL my_fn(t.id) f',
    'SELECT * FROM t JOIN my_fn() f ON true',
    'SELECT "NEXTVAL"(\'s\')',
    "SELECT query_to_xml('DELETE FROM t', true, false, '')",
    'SELECT x FROM t WHERE my_check(x) ORDER BY my_rank(x)',
    'EXPLAIN ANALYZE SELECT my_fn()',
    'WITH a AS (SELECT my_fn()) SELECT * FROM a',
    'SELECT pg_catalog.lower(x), app.lower(x)',
  ])('read that may write (calls a function not known to be read-only): %s', (sql) => {
    expect(classifyStatement(sql)).toMatchObject({ kind: 'read', mayWrite: true });
  });

  it.each<[string, Partial<StatementClass>]>([
    ['BEGIN', { kind: 'write', beginsTransaction: true }],
    ['BEGIN ISOLATION LEVEL SERIALIZABLE', { kind: 'write', beginsTransaction: true }],
    ['START TRANSACTION READ ONLY', { kind: 'write', beginsTransaction: true }],
    ['COMMIT', { endsTransaction: 'commit', beginsTransaction: false }],
    ['END WORK', { endsTransaction: 'commit' }],
    ['ROLLBACK', { endsTransaction: 'rollback' }],
    ['ABORT', { endsTransaction: 'rollback' }],
    ['ROLLBACK TO SAVEPOINT s', { kind: 'session', endsTransaction: undefined }],
    ['ROLLBACK TO s', { kind: 'session', endsTransaction: undefined }],
    ['COMMIT AND CHAIN', { kind: 'session', endsTransaction: undefined }],
    ['COMMIT AND NO CHAIN', { endsTransaction: 'commit' }],
    ["COMMIT PREPARED 'x'", { kind: 'write', endsTransaction: undefined }],
    ['BEGIN; INSERT INTO t VALUES (1); COMMIT', { kind: 'write', beginsTransaction: false, endsTransaction: undefined }],
    ['COMMIT; BEGIN', { kind: 'write', beginsTransaction: true, endsTransaction: 'commit' }],
    ['ROLLBACK; SELECT 1', { kind: 'session', endsTransaction: 'rollback' }],
    ['SELECT 1; COMMIT', { kind: 'session', endsTransaction: 'commit' }],
  ])('transaction boundaries of %s', (sql, expected) => expectClass(sql, expected));

  it.each<[string, StatementClass['sessionState']]>([
    ['SET statement_timeout = 0', 'replayable'],
    ['SET SESSION statement_timeout TO 0', 'replayable'],
    ['SET ROLE reader', 'replayable'],
    ['SET SESSION AUTHORIZATION reader', 'replayable'],
    ['SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY', 'replayable'],
    ["SET TIME ZONE 'UTC'", 'replayable'],
    ['RESET ALL', 'replayable'],
    ['DISCARD ALL', 'replayable'],
    ['SET a = 1; SET b = 2', 'replayable'],
    ['SET LOCAL statement_timeout = 0', undefined],
    ['SET TRANSACTION READ ONLY', undefined],
    ['SET CONSTRAINTS ALL DEFERRED', undefined],
    ["SELECT set_config('a.b', 'c', false)", 'sticky'],
    ['SELECT setseed(0.5)', 'sticky'],
    ['PREPARE p AS SELECT 1', 'sticky'],
    ['DECLARE c CURSOR WITH HOLD FOR SELECT 1', 'sticky'],
    ['CREATE TEMP TABLE t (a int)', 'sticky'],
    ['CREATE TEMPORARY TABLE t (a int)', 'sticky'],
    ['CREATE LOCAL TEMP TABLE t (a int)', 'sticky'],
    ['SELECT 1 INTO TEMP t', 'sticky'],
    ['LISTEN chan', 'sticky'],
    ['SELECT pg_advisory_lock(1)', 'sticky'],
    ['SELECT pg_try_advisory_lock(1)', 'sticky'],
    ["UPDATE t SET a = set_config('x.y', 'z', false)", 'sticky'],
    // Replaying this text would run the SELECT again: the SET cannot be carried by replay.
    ['SET a = 1; SELECT 1', 'sticky'],
    ['SELECT pg_advisory_xact_lock(1)', undefined],
    ['CREATE TABLE t (a int)', undefined],
    ['SELECT 1', undefined],
  ])('session state of %s: %s', (sql, sessionState) => {
    expect(classifyStatement(sql).sessionState).toBe(sessionState);
  });

  it.each<[string, Partial<StatementClass>]>([
    ['PREPARE p AS SELECT * FROM note WHERE id = $1', { kind: 'read', sessionState: 'sticky' }],
    ['PREPARE p (int) AS DELETE FROM note WHERE id = $1', { kind: 'write', sessionState: 'sticky' }],
    ['DECLARE c CURSOR FOR SELECT * FROM note FOR UPDATE', { kind: 'write' }],
    ['DECLARE c CURSOR FOR SELECT my_fn()', { kind: 'read', mayWrite: true }],
    ['SET a = 1; SELECT my_fn()', { kind: 'session', mayWrite: true }],
    ['SELECT my_fn(); DELETE FROM t', { kind: 'write', mayWrite: false }],
    ['SELECT 1; SELECT 2', { kind: 'read', mayWrite: false }],
    ['CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END', { kind: 'write', endsTransaction: undefined }],
    [
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; COMMIT',
      { kind: 'write', endsTransaction: 'commit' },
    ],
    ['CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; COMMIT)', { kind: 'write', endsTransaction: undefined }],
  ])('%s', (sql, expected) => expectClass(sql, expected));

  it('returns frozen results, the same object for the same text (cached)', () => {
    const sql = 'SELECT "Note"."id" FROM "note" "Note" WHERE "Note"."id" = $1';
    const first = classifyStatement(sql);
    expect(Object.isFrozen(first)).toBe(true);
    expect(classifyStatement(sql)).toBe(first);
  });

  it('classifies the same after its cache was cleared by many distinct texts', () => {
    const before = classifyStatement('SELECT my_fn()');
    for (let i = 0; i < 5000; i++) classifyStatement(`SELECT ${i}`);
    expect(classifyStatement('SELECT my_fn()')).toEqual(before);
  });

  it('no primary-only function is mistaken for grammar', () => {
    expect([...PRIMARY_ONLY_FUNCTIONS].filter((name) => NOT_CALLS.has(name))).toEqual([]);
  });
});

describe('classifyStatement on hostile or unterminated input', () => {
  // The regex classifier took seconds on this (each unclosed quote scanned the rest of the text):
  // a single pass reads it once. Jest's timeout bounds the run; no clock is read here.
  it.each([32_000, 64_000])('%i unclosed $tag$ quotes: everything after the first is inside it', (count) => {
    expect(classifyStatement(`SELECT ${'$tag$ '.repeat(count)}`)).toMatchObject({ kind: 'read', mayWrite: false });
    expect(classifyStatement(`DELETE FROM t; SELECT ${'$tag$ '.repeat(count)}`).kind).toBe('write');
  });

  it.each([
    ["SELECT 'unterminated; DELETE FROM t", 'read'],
    ['SELECT "unterminated; DELETE FROM t', 'read'],
    ['SELECT 1 /* unterminated; DELETE FROM t', 'read'],
    ['SELECT 1 /* /* */ still open; DELETE FROM t', 'read'],
    ['SELECT $q$ unterminated; DELETE FROM t', 'read'],
    ["SELECT E'unterminated\\'; DELETE FROM t", 'read'],
    ['SELECT 1 -- to the end; DELETE FROM t', 'read'],
    ["DELETE FROM t WHERE a = 'unterminated", 'write'],
  ])('%j is a %s', (sql, kind) => {
    expect(classifyStatement(sql).kind).toBe(kind);
  });

  it.each([
    `SELECT ${"'a' || ".repeat(20_000)}'b'`,
    `SELECT ${'/* '.repeat(20_000)}`,
    `SELECT ${'('.repeat(20_000)}1`,
    `SELECT ${"E'\\\\' ".repeat(20_000)}`,
    `SELECT ${'"a""b" '.repeat(20_000)}`,
    `SELECT ${"'a'\n".repeat(20_000)}`,
  ])('long input %#: classified', (sql) => {
    expect(classifyStatement(sql).kind).toBe('read');
  });
});
