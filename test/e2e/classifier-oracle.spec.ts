import { Client } from 'pg';
import { READ_ONLY_FUNCTIONS } from '../../lib/routing/read-only-functions.js';
import { PRIMARY_ONLY_FUNCTIONS, VOLATILE_READ_ONLY_FUNCTIONS } from '../../lib/routing/sql-functions.js';
import { classifyStatement } from '../../lib/routing/statement-kind.js';
import type { PgCluster, PgConnectionOptions } from '../../lib/testing/index.js';
import { READ_ONLY_FUNCTIONS_QUERY } from '../../bench/read-only-functions.catalog.js';
import { CorpusStatement, handWrittenCorpus, ORACLE_SCHEMA, WRITES_BY_MEANING } from '../support/classifier-corpus.js';
import { testCluster } from '../support/test-cluster.js';
import { typeormCorpus } from '../support/typeorm-corpus.js';

/**
 * The server is the oracle: each statement of a large corpus runs on the replica (and, as a second
 * opinion, on the primary in a read-only transaction), inside a transaction that is rolled back.
 * Refused as read-only or as impossible during recovery, it needs the primary; run, it does not;
 * failing otherwise, it is not valid SQL here and leaves the corpus. The classifier may call a
 * statement a write that a replica could run (a false write costs a trip to the primary), never a
 * read that only the primary can run (a false read fails).
 */

type Verdict = 'ran' | 'refused' | 'invalid';

interface Outcome {
  statement: CorpusStatement;
  needsPrimary: boolean;
}

// Transaction control would end the transaction the oracle wraps each statement in; the unit spec covers it.
const TRANSACTION_CONTROL = /^\s*(start\s+transaction|begin|commit|rollback|end|abort|release|savepoint|prepare\s+transaction)\b/i;

// Zero-argument built-ins not to call even in a rolled-back transaction: they act outside it.
const DO_NOT_CALL = new Set(['pg_advisory_unlock_all', 'pg_stop_making_pinned_objects', 'lastval']);

function refusedAsReadOnly(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === '25006' || (code === '55000' && /recovery is in progress/.test(message ?? '')) || /during recovery/.test(message ?? '');
}

async function connect(server: PgConnectionOptions, readOnly: boolean): Promise<Client> {
  const settings = ['-c statement_timeout=10000', '-c lock_timeout=2000', ...(readOnly ? ['-c default_transaction_read_only=on'] : [])];
  const client = new Client({ connectionString: server.url, password: server.password, options: settings.join(' ') });
  client.on('error', () => undefined);
  client.on('notice', () => undefined);
  await client.connect();
  return client;
}

async function verdict(client: Client, { sql, params }: CorpusStatement): Promise<Verdict> {
  await client.query('BEGIN');
  try {
    await (params ? client.query(sql, params) : client.query(sql));
    return 'ran';
  } catch (error) {
    return refusedAsReadOnly(error) ? 'refused' : 'invalid';
  } finally {
    await client.query('ROLLBACK');
    // PREPARE is not undone by ROLLBACK: a second PREPARE of the same name would fail.
    if (/prepare/i.test(sql)) await client.query('DEALLOCATE ALL');
  }
}

/** `SELECT f()` for each zero-argument built-in that is read-only or primary-only: the lists meet the server. */
async function zeroArgumentCalls(cluster: PgCluster): Promise<CorpusStatement[]> {
  const listed = [...VOLATILE_READ_ONLY_FUNCTIONS, ...PRIMARY_ONLY_FUNCTIONS].filter((name) => !DO_NOT_CALL.has(name));
  const rows = await cluster.query<{ name: string }>(
    'primary',
    `SELECT DISTINCT proname AS name FROM pg_proc
      WHERE pronamespace = 'pg_catalog'::regnamespace AND pronargs = 0 AND prokind = 'f'
        AND prorettype <> ALL ('{trigger,internal,event_trigger,language_handler,fdw_handler,table_am_handler,index_am_handler,tsm_handler}'::regtype[])
        AND (provolatile IN ('i', 's') OR proname = ANY ($1))`,
    [listed],
  );
  return rows.flatMap(({ name }) => [{ sql: `SELECT ${name}()` }, { sql: `SELECT * FROM pg_catalog."${name}"()` }]);
}

function unique(statements: CorpusStatement[]): CorpusStatement[] {
  const seen = new Map<string, CorpusStatement>();
  for (const statement of statements) seen.set(JSON.stringify([statement.sql, statement.params ?? null]), statement);
  return [...seen.values()];
}

describe('the statement classifier, with PostgreSQL as the oracle', () => {
  let cluster: PgCluster;
  let corpus: CorpusStatement[];

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 1 });
    for (const sql of ORACLE_SCHEMA) await cluster.query('primary', sql);
    const captured = await typeormCorpus(cluster.primary);
    corpus = unique([...captured, ...handWrittenCorpus(), ...(await zeroArgumentCalls(cluster))]).filter(({ sql }) => !TRANSACTION_CONTROL.test(sql));
    await cluster.waitForReplay();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('lib/routing/read-only-functions.ts lists exactly the catalog functions that are immutable or stable in every overload', async () => {
    const names = (await cluster.query<{ name: string }>('primary', READ_ONLY_FUNCTIONS_QUERY)).map((row) => row.name);
    const missing = names.filter((name) => !READ_ONLY_FUNCTIONS.has(name));
    const stale = [...READ_ONLY_FUNCTIONS].filter((name) => !names.includes(name));
    // Either list non-empty: run `npm run generate:read-only-functions`.
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  it('calls no statement a read that the server runs only on the primary', async () => {
    const replica = await connect(cluster.replicas[0], false);
    const primary = await connect(cluster.primary, true);
    const outcomes: Outcome[] = [];
    let invalid = 0;
    let disagreements = 0;
    try {
      for (const statement of corpus) {
        const onReplica = await verdict(replica, statement);
        if (onReplica === 'invalid') {
          invalid++;
          continue;
        }
        const onPrimary = await verdict(primary, statement);
        // A read-only transaction on the primary refuses data changes; the replica also refuses WAL and xid functions.
        if (onPrimary === 'refused' && onReplica === 'ran') disagreements++;
        outcomes.push({ statement, needsPrimary: onReplica === 'refused' || onPrimary === 'refused' });
      }
    } finally {
      await replica.end();
      await primary.end();
    }

    const falseReads: string[] = [];
    const falseWrites: string[] = [];
    for (const { statement, needsPrimary } of outcomes) {
      const result = classifyStatement(statement.sql);
      const goesToPrimary = result.kind === 'write' || result.mayWrite;
      if (needsPrimary && !goesToPrimary) falseReads.push(statement.sql);
      if (!needsPrimary && goesToPrimary) falseWrites.push(statement.sql);
    }
    const curated = WRITES_BY_MEANING.length;
    console.log(
      `classifier oracle: ${outcomes.length + curated} statements (${outcomes.length} judged by the server, ${curated} writes by meaning; ` +
        `${invalid} invalid dropped, ${disagreements} refused only by the read-only primary), ${falseReads.length} false reads, ${falseWrites.length} false writes` +
        (falseWrites.length ? `\nfalse writes, e.g.:\n  ${[...new Set(falseWrites)].slice(0, 40).join('\n  ')}` : ''),
    );
    expect(outcomes.length).toBeGreaterThan(3000);
    expect(outcomes.filter((o) => o.needsPrimary).length).toBeGreaterThan(500);
    expect(falseReads).toEqual([]);
  }, 600_000);

  it.each(WRITES_BY_MEANING)('calls %s a write: it needs the primary by meaning', (sql) => {
    expect(classifyStatement(sql).kind).toBe('write');
  });
});
