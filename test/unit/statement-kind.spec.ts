import { statementKind } from '../../lib/routing/statement-kind.js';

describe('statementKind', () => {
  it.each([
    'SELECT "Note"."id" AS "Note_id" FROM "note" "Note" WHERE "Note"."id" = $1 LIMIT 1',
    'select 1',
    '  (SELECT 1) UNION (SELECT 2)',
    'WITH recent AS (SELECT * FROM note) SELECT * FROM recent',
    'SHOW search_path',
    'VALUES (1), (2)',
    'EXPLAIN SELECT * FROM note',
    '/* a comment */ SELECT 1',
    '-- a comment\nSELECT 1',
    "SELECT 'FOR UPDATE' AS text",
    'SELECT "for update" FROM t',
    "SELECT * FROM note WHERE text = 'INSERT'",
  ])('read: %s', (sql) => expect(statementKind(sql)).toBe('read'));

  it.each([
    'INSERT INTO "note"("text") VALUES ($1) RETURNING "id"',
    'UPDATE note SET text = $1',
    'DELETE FROM note',
    'MERGE INTO note USING x ON true WHEN MATCHED THEN DELETE',
    'CREATE TABLE t (id int)',
    'ALTER TABLE t ADD c int',
    'DROP TABLE t',
    'TRUNCATE note',
    'START TRANSACTION',
    'BEGIN',
    'SELECT * FROM note FOR UPDATE',
    'SELECT * FROM note FOR NO KEY UPDATE',
    'SELECT * FROM note FOR SHARE',
    'SELECT * FROM note FOR KEY SHARE SKIP LOCKED',
    'WITH moved AS (DELETE FROM note RETURNING *) SELECT * FROM moved',
    'WITH x AS (SELECT 1) INSERT INTO note (text) SELECT $1 FROM x',
    'EXPLAIN ANALYZE DELETE FROM note',
    'COPY note FROM STDIN',
    'CALL refresh_everything()',
    'DO $$ BEGIN PERFORM 1; END $$',
    'VACUUM note',
    'GRANT SELECT ON note TO reader',
    'LOCK TABLE note',
    'REFRESH MATERIALIZED VIEW v',
    '',
    'something unknown',
  ])('write: %s', (sql) => expect(statementKind(sql)).toBe('write'));

  it.each(['COMMIT', 'ROLLBACK', 'ROLLBACK TO SAVEPOINT typeorm_1', 'RELEASE SAVEPOINT typeorm_1', 'SAVEPOINT typeorm_1', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'SET statement_timeout = 0', 'RESET ALL', 'END'])(
    'session: %s',
    (sql) => expect(statementKind(sql)).toBe('session'),
  );
});
