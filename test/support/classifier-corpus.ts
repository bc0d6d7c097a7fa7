/**
 * Statements for the classifier oracle (test/e2e/classifier-oracle.spec.ts): hand-written reads
 * and writes over the schema below, multiplied by variations that hide keywords in comments,
 * literals and quoted identifiers, EXPLAIN, and multi-statement texts.
 */

export interface CorpusStatement {
  sql: string;
  params?: unknown[];
}

/** Created on the primary before anything runs; the replica must have replayed it. */
export const ORACLE_SCHEMA = [
  "CREATE TABLE note (id serial PRIMARY KEY, text text NOT NULL DEFAULT '', tags text[] NOT NULL DEFAULT '{}', doc jsonb)",
  'CREATE TABLE item (id serial PRIMARY KEY, note_id int REFERENCES note(id), qty int NOT NULL DEFAULT 0, "for update" text)',
  "INSERT INTO note (text, tags, doc) SELECT 'note ' || i, ARRAY['a', 'b'], jsonb_build_object('i', i) FROM generate_series(1, 20) i",
  'INSERT INTO item (note_id, qty) SELECT i, i * 2 FROM generate_series(1, 20) i',
  'CREATE SEQUENCE s',
  'CREATE VIEW note_view AS SELECT id, text FROM note',
  "CREATE FUNCTION my_writer() RETURNS int LANGUAGE sql VOLATILE AS $$ INSERT INTO note (text) VALUES ('w') RETURNING 1 $$",
  'CREATE FUNCTION my_volatile_reader() RETURNS bigint LANGUAGE sql VOLATILE AS $$ SELECT count(*) FROM note $$',
  'CREATE FUNCTION my_reader(n int) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) + n FROM note $$',
  'CREATE SCHEMA app',
  'CREATE FUNCTION app.touch() RETURNS int LANGUAGE plpgsql AS $$ BEGIN UPDATE note SET text = text WHERE id = 1; RETURN 1; END $$',
];

const READS = [
  'SELECT 1',
  'select * from note',
  'SELECT id, text FROM note WHERE id = 1',
  'SELECT n.id, i.qty FROM note n JOIN item i ON i.note_id = n.id WHERE i.qty > 2 ORDER BY n.id LIMIT 5 OFFSET 1',
  'SELECT count(*), max(qty), min(qty), sum(qty), avg(qty) FROM item',
  'SELECT note_id, count(*) FROM item GROUP BY note_id HAVING count(*) > 0',
  'SELECT * FROM note WHERE id IN (SELECT note_id FROM item WHERE qty > 10)',
  'SELECT * FROM note WHERE EXISTS (SELECT 1 FROM item WHERE item.note_id = note.id)',
  'WITH recent AS (SELECT * FROM note ORDER BY id DESC LIMIT 3) SELECT * FROM recent',
  'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r',
  'WITH a AS (SELECT 1 AS x), b(y) AS MATERIALIZED (SELECT x FROM a) SELECT * FROM b',
  '(SELECT 1) UNION (SELECT 2)',
  'SELECT 1 UNION SELECT 2 INTERSECT SELECT 2 EXCEPT SELECT 3',
  "VALUES (1, 'a'), (2, 'b')",
  'TABLE note',
  'SHOW search_path',
  'SHOW ALL',
  'SELECT * FROM generate_series(1, 3) g(x)',
  'SELECT * FROM generate_series(1, 3) AS g(x)',
  'SELECT * FROM (VALUES (1), (2)) v(a)',
  'SELECT * FROM unnest(ARRAY[1, 2]) WITH ORDINALITY AS u(x, n)',
  'SELECT * FROM note n(a, b), LATERAL (SELECT count(*) FROM item WHERE note_id = n.a) c',
  'SELECT * FROM note, LATERAL generate_series(1, 2) g',
  'SELECT * FROM ROWS FROM (generate_series(1, 2), generate_series(1, 3)) AS r(a, b)',
  'SELECT now(), current_timestamp, current_timestamp(3), localtimestamp(2), current_date, clock_timestamp(), statement_timestamp()',
  'SELECT random(), gen_random_uuid(), uuidv7(), timeofday()',
  'SELECT pg_sleep(0)',
  'SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), pg_last_wal_receive_lsn(), pg_last_xact_replay_timestamp()',
  "SELECT current_setting('search_path'), version(), pg_backend_pid(), inet_server_port()",
  "SELECT pg_relation_size('note'), pg_total_relation_size('note'), pg_size_pretty(pg_database_size(current_database()))",
  "SELECT coalesce(NULL, 1), nullif(1, 2), greatest(1, 2), least(1, 2), extract(year FROM now()), substring('abc' FROM 1 FOR 2), trim(both ' ' from ' a '), position('b' IN 'abc'), overlay('abc' placing 'x' from 2 for 1)",
  "SELECT CAST('1' AS numeric(10, 2)), '1.5'::numeric(5, 1), '2020-01-01'::timestamp(3), interval '1 day', '1'::varchar(5)",
  'SELECT DISTINCT ON (note_id) note_id, qty FROM item ORDER BY note_id, qty DESC',
  'SELECT id, row_number() OVER (PARTITION BY id % 2 ORDER BY id), count(*) FILTER (WHERE id > 2) OVER () FROM note',
  'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY qty) FROM item',
  "SELECT jsonb_build_object('a', 1), doc->>'i', doc @> '{\"i\": 1}' FROM note",
  "SELECT json_object('a': 1), json_array(1, 2), json_value('{\"a\": 1}', '$.a')",
  "SELECT * FROM json_table('[{\"a\": 1}]', '$[*]' COLUMNS (a int PATH '$.a')) jt",
  "SELECT xmlelement(name x, 'y'), xmlforest(1 AS a)",
  "SELECT string_agg(text, ',' ORDER BY id), array_agg(id) FROM note",
  'SELECT ARRAY(SELECT id FROM note), ROW(1, 2), 1 = ANY (ARRAY[1]), 2 = ALL (ARRAY[2])',
  'SELECT CASE WHEN id > 1 THEN upper(text) ELSE lower(text) END FROM note',
  "SELECT id FROM note WHERE text LIKE 'n%' AND text ILIKE 'N%' AND id BETWEEN 1 AND 5 AND tags && ARRAY['a']",
  'SELECT * FROM note_view',
  'SELECT "for update" FROM item WHERE "for update" IS NULL',
  "SELECT pg_catalog.lower('A'), pg_catalog.now()",
  'SELECT my_reader(1)',
  'SELECT my_volatile_reader()',
  "SELECT set_config('application_name', 'x', false)",
  "SELECT set_config('application_name', 'x', true)",
  'SELECT setseed(0.5)',
  'SELECT pg_export_snapshot()',
  "SELECT query_to_xml('SELECT 1', true, false, '')",
  'SELECT id FROM note FETCH FIRST 2 ROWS ONLY',
  'SELECT id FROM note ORDER BY id FETCH FIRST 2 ROWS WITH TIES',
  'SELECT * FROM note TABLESAMPLE bernoulli (50) REPEATABLE (1)',
  'SELECT 1 WHERE 1 IS DISTINCT FROM 2',
  'SELECT grouping(note_id), sum(qty) FROM item GROUP BY ROLLUP (note_id)',
  'SELECT sum(qty) FROM item GROUP BY GROUPING SETS ((note_id), ())',
  'SELECT pg_xact_status(pg_current_xact_id_if_assigned())',
  'SELECT txid_current_if_assigned()',
  'EXPLAIN SELECT * FROM note',
  'EXPLAIN (COSTS OFF) SELECT * FROM note WHERE id = 1',
  'EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM note',
  'EXPLAIN ANALYZE SELECT my_reader(1)',
  'EXPLAIN DELETE FROM note',
  "EXPLAIN INSERT INTO note (text) VALUES ('x')",
  "EXPLAIN SELECT nextval('s')",
  'EXPLAIN SELECT * FROM note FOR UPDATE',
  'EXPLAIN SELECT 1 INTO explained',
  'EXPLAIN (ANALYZE false) DELETE FROM note',
  'DECLARE c CURSOR FOR SELECT * FROM note',
  'DECLARE c NO SCROLL CURSOR WITHOUT HOLD FOR SELECT * FROM note',
  'DECLARE c CURSOR WITH HOLD FOR SELECT * FROM note',
  'PREPARE p AS SELECT * FROM note WHERE id = $1',
  'PREPARE p (int) AS SELECT * FROM note WHERE id = $1',
  'SET statement_timeout = 0',
  'SET LOCAL statement_timeout = 0',
  "SET SESSION application_name TO 'x'",
  'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ',
  'SET CONSTRAINTS ALL DEFERRED',
  'SET search_path = public, app',
  "SET TIME ZONE 'UTC'",
  'RESET statement_timeout',
  'RESET ALL',
  'UNLISTEN *',
  'SAVEPOINT s1',
  "SELECT 'a' || E'\\n' || U&'\\0041' || $$b$$ || $q$c$q$ || B'101'::text || X'1F'::text",
];

const WRITES = [
  "INSERT INTO note (text) VALUES ('x')",
  "INSERT INTO note (text) VALUES ('x') RETURNING id",
  "INSERT INTO note (id, text) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET text = EXCLUDED.text",
  "INSERT INTO note (id, text) VALUES (1, 'x') ON CONFLICT DO NOTHING",
  'INSERT INTO note (text) SELECT text FROM note WHERE id = 1',
  "UPDATE note SET text = 'y' WHERE id = 1",
  'UPDATE item SET qty = qty + 1 FROM note WHERE note.id = item.note_id',
  'DELETE FROM item WHERE id = 1',
  'DELETE FROM item USING note WHERE note.id = item.note_id AND note.id = 2 RETURNING item.id',
  "MERGE INTO note n USING (VALUES (1, 'm')) v(id, text) ON n.id = v.id WHEN MATCHED THEN UPDATE SET text = v.text WHEN NOT MATCHED THEN INSERT (text) VALUES (v.text)",
  'WITH moved AS (DELETE FROM item WHERE id = 3 RETURNING *) SELECT * FROM moved',
  "WITH x AS (SELECT 1) INSERT INTO note (text) SELECT 'cte' FROM x",
  "WITH u AS (UPDATE note SET text = 'u' WHERE id = 4 RETURNING id) SELECT count(*) FROM u",
  'SELECT * FROM note FOR UPDATE',
  'SELECT * FROM note WHERE id = 1 FOR NO KEY UPDATE',
  'SELECT * FROM note FOR SHARE',
  'SELECT * FROM note FOR KEY SHARE SKIP LOCKED',
  'SELECT * FROM note n JOIN item i ON i.note_id = n.id FOR UPDATE OF n NOWAIT',
  'WITH locked AS (SELECT * FROM note FOR UPDATE) SELECT count(*) FROM locked',
  'SELECT * FROM (SELECT * FROM note FOR SHARE) s',
  'SELECT * INTO note_copy FROM note',
  'SELECT id INTO TEMP note_ids FROM note',
  'SELECT id INTO TEMPORARY TABLE note_ids2 FROM note',
  'CREATE TABLE t1 AS SELECT * FROM note',
  'CREATE TEMP TABLE tt (a int)',
  'CREATE TABLE t2 (id int)',
  'CREATE INDEX ON note (text)',
  'CREATE VIEW v2 AS SELECT 1',
  'CREATE FUNCTION f2() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END',
  'CREATE RULE r AS ON INSERT TO item DO ALSO (SELECT 1; SELECT 2)',
  'ALTER TABLE note ADD COLUMN extra int',
  'DROP VIEW note_view',
  'TRUNCATE item',
  "COMMENT ON TABLE note IS 'x'",
  'GRANT SELECT ON note TO PUBLIC',
  'LOCK TABLE note IN ACCESS SHARE MODE',
  'LOCK TABLE note',
  'DO $$ BEGIN PERFORM 1; END $$',
  "DO $$ BEGIN UPDATE note SET text = 'do' WHERE id = 1; END $$",
  'CALL nothing_here()',
  'ANALYZE note',
  'CLUSTER note USING note_pkey',
  'REINDEX TABLE note',
  'LISTEN chan',
  'NOTIFY chan',
  "NOTIFY chan, 'payload'",
  'SECURITY LABEL ON TABLE note IS NULL',
  'SELECT my_writer()',
  'SELECT app.touch()',
  'SELECT * FROM my_writer()',
  "SELECT nextval('s')",
  "SELECT setval('s', 10)",
  "SELECT pg_catalog.nextval('s')",
  'SELECT "nextval"(\'s\')',
  "SELECT id, nextval('s') FROM note",
  "SELECT DISTINCT ON (id) nextval('s') FROM note",
  "SELECT 1 WHERE 1 IS DISTINCT FROM 2 AND nextval('s') > 0",
  'SELECT 1 FROM note WHERE id IS NOT DISTINCT FROM 1 OR my_writer() > 0',
  "SELECT extract(epoch FROM now() AT TIME ZONE 'UTC') + nextval('s')",
  "SELECT substring('abc' FROM 1 FOR nextval('s')::int)",
  "SELECT * FROM note n JOIN item i ON i.note_id = n.id AND nextval('s') > 0",
  "SELECT * FROM note CROSS JOIN LATERAL nextval('s') AS x",
  "VALUES (nextval('s'))",
  'SELECT txid_current()',
  'SELECT pg_current_xact_id()',
  'SELECT pg_current_wal_lsn()',
  'SELECT pg_current_wal_insert_lsn()',
  'SELECT pg_current_wal_flush_lsn()',
  'SELECT pg_walfile_name(pg_current_wal_lsn())',
  "SELECT pg_notify('chan', 'x')",
  "SELECT pg_logical_emit_message(true, 'p', 'x')",
  'SELECT pg_switch_wal()',
  "SELECT pg_create_restore_point('r')",
  'SELECT lo_create(0)',
  "SELECT lo_from_bytea(0, 'x')",
  'SELECT pg_log_standby_snapshot()',
  'EXPLAIN ANALYZE DELETE FROM item WHERE id = 5',
  'EXPLAIN (ANALYZE) UPDATE note SET text = text',
  "EXPLAIN ANALYZE SELECT nextval('s')",
  'EXPLAIN ANALYZE SELECT * FROM note FOR UPDATE',
  'EXPLAIN (ANALYZE, BUFFERS) SELECT my_writer()',
  'EXPLAIN ANALYZE CREATE TABLE t3 AS SELECT 1',
  'DECLARE c CURSOR FOR SELECT * FROM note FOR UPDATE',
  "PREPARE pw AS INSERT INTO note (text) VALUES ('p')",
];

/** Ways to hide a keyword from a naive scan; each keeps the statement valid. */
const AROUND: Array<(sql: string) => string> = [
  (s) => s,
  (s) => `/* DELETE FROM note; */ ${s}`,
  (s) => `/* a /* nested */ still a comment; DELETE FROM note */ ${s}`,
  (s) => `-- DELETE FROM note;\n${s}`,
  (s) => `${s} -- ; DELETE FROM note`,
  (s) => `${s} /* ; DELETE FROM note */`,
  (s) => `\n\t ${s}\n`,
  (s) => `${s};`,
  (s) => `/**/${s}/**/;/**/`,
];

/** Items put first in a SELECT list: literals and identifiers that hold keywords. */
const SELECT_ITEMS = [
  "'--' AS a",
  "'; DELETE FROM note; --' AS a",
  "'/*' AS a",
  "E'\\'; DELETE FROM note; --' AS a",
  "E'\\\\' AS a",
  '$$; DELETE FROM note; $$ AS a',
  '$tag$ $$ ; DELETE FROM note $tag$ AS a',
  "'it''s; DELETE' AS a",
  '"a""; DELETE" AS b',
  "U&'\\0041; DELETE' AS a",
  "'a'\n  '; DELETE FROM note' AS a",
  '1 AS "select", 2 AS "FOR UPDATE"',
  "'FOR UPDATE' AS a",
  "'nextval(''s'')' AS a",
  '"nextval" AS a',
];

/** The hand-written statements, in every variation. */
export function handWrittenCorpus(): CorpusStatement[] {
  const out: CorpusStatement[] = [];
  const bases = [...READS, ...WRITES];
  for (const base of bases) for (const around of AROUND) out.push({ sql: around(base) });
  for (const base of bases) {
    if (!/^select /i.test(base) || /^select (distinct|\*)/i.test(base)) continue;
    for (const item of SELECT_ITEMS) out.push({ sql: base.replace(/^select /i, (m) => `${m}${item}, `) });
  }
  // SELECT * lists: the items go after the star.
  for (const base of bases) {
    if (!/^select \* /i.test(base)) continue;
    for (const item of SELECT_ITEMS) out.push({ sql: base.replace(/^select \* /i, () => `SELECT *, ${item} `) });
  }
  for (const base of bases) {
    if (
      /^(explain|declare|prepare|set|reset|savepoint|unlisten|show|copy|listen|notify|create|alter|drop|do|call|analyze|cluster|reindex|grant|comment|security|truncate|lock)/i.test(
        base,
      )
    )
      continue;
    out.push({ sql: `EXPLAIN ${base}` }, { sql: `EXPLAIN ANALYZE ${base}` }, { sql: `EXPLAIN (ANALYZE, COSTS OFF) ${base}` });
  }
  // Pairs: every read after and before a sample of writes and reads.
  const sample = (list: string[], step: number) => list.filter((_, i) => i % step === 0);
  for (const read of READS) {
    for (const other of [...sample(WRITES, 4), ...sample(READS, 6)]) {
      out.push({ sql: `${read}; ${other}` }, { sql: `${other};\n${read}` });
    }
  }
  return out;
}

/**
 * Statements that need the primary by meaning, though a standby may run them: a lock there
 * excludes nobody, a sequence's currval belongs to the session that called nextval, and slots or
 * origins made there are not the primary's. The oracle does not run these (some would leave state
 * behind); the classifier must call every one a write.
 */
export const WRITES_BY_MEANING = [
  'SELECT pg_advisory_lock(1)',
  'SELECT pg_advisory_lock_shared(1)',
  'SELECT pg_try_advisory_lock(1)',
  'SELECT pg_try_advisory_lock(1, 2)',
  'SELECT pg_try_advisory_lock_shared(1)',
  'SELECT pg_advisory_xact_lock(1)',
  'SELECT pg_advisory_xact_lock_shared(1)',
  'SELECT pg_try_advisory_xact_lock(1)',
  'SELECT pg_try_advisory_xact_lock_shared(1)',
  'SELECT pg_advisory_unlock(1)',
  'SELECT pg_advisory_unlock_shared(1)',
  'SELECT pg_advisory_unlock_all()',
  'SELECT pg_catalog.pg_try_advisory_lock(hashtext($1))',
  'SELECT id FROM note WHERE pg_try_advisory_xact_lock(id) LIMIT 1',
  'WITH l AS (SELECT pg_advisory_lock(2)) SELECT * FROM l',
  "SELECT currval('s')",
  'SELECT lastval()',
  "SELECT pg_create_physical_replication_slot('slot')",
  "SELECT pg_create_logical_replication_slot('slot', 'pgoutput')",
  "SELECT pg_drop_replication_slot('slot')",
  "SELECT * FROM pg_logical_slot_get_changes('slot', NULL, NULL)",
  "SELECT * FROM pg_logical_slot_peek_changes('slot', NULL, NULL)",
  "SELECT pg_replication_slot_advance('slot', '0/0')",
  "SELECT pg_replication_origin_create('origin')",
  "SELECT pg_replication_origin_session_setup('origin')",
  "SELECT lo_import('/dev/null')",
  'SELECT lo_unlink(1)',
  "SELECT lo_put(1, 0, 'x')",
  "SELECT lowrite(0, 'x')",
  "SELECT pg_backup_start('b')",
  'SELECT pg_backup_stop()',
];
