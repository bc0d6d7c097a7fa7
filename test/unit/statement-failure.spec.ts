import { QueryFailedError } from 'typeorm';
import type { StatementFailure } from '../../lib/routing/read-policy.js';
import { statementFailure } from '../../lib/routing/statement-failure.js';

/** An error as node-postgres raises it: a message and a SQLSTATE (or a Node error code). */
const pgError = (code: string | undefined, message: string) => Object.assign(new Error(message), code === undefined ? {} : { code });
/** As TypeORM rethrows it: a QueryFailedError-shaped object with the driver's error inside. */
const wrapped = (driverError: unknown) => Object.assign(new Error('query failed'), { driverError });
/** TypeORM's own QueryFailedError. */
const queryFailed = (driverError: Error) => new QueryFailedError('SELECT 1', [], driverError);

describe('statementFailure', () => {
  it.each<{ name: string; error: unknown; failure: StatementFailure | undefined }>([
    // a replica refuses what only the primary can do
    {
      name: '25006 read-only transaction (an INSERT on a standby)',
      error: pgError('25006', 'cannot execute INSERT in a read-only transaction'),
      failure: 'needs-primary',
    },
    {
      name: '25006 whatever the message (txid_current() during recovery)',
      error: pgError('25006', 'cannot execute txid_current() during recovery'),
      failure: 'needs-primary',
    },
    {
      name: '55000 "recovery is in progress" (pg_current_wal_lsn() on a standby)',
      error: pgError('55000', 'recovery is in progress'),
      failure: 'needs-primary',
    },
    { name: '0A000 "cannot execute LISTEN during recovery"', error: pgError('0A000', 'cannot execute LISTEN during recovery'), failure: 'needs-primary' },
    {
      name: 'TypeORM-shaped { driverError: { code: 25006 } }',
      error: wrapped({ code: '25006', message: 'cannot execute UPDATE in a read-only transaction' }),
      failure: 'needs-primary',
    },
    {
      name: 'TypeORM-shaped { driverError } with 55000 "recovery is in progress"',
      error: wrapped({ code: '55000', message: 'recovery is in progress' }),
      failure: 'needs-primary',
    },
    { name: 'TypeORM-shaped { driverError: { code } } without a message: 25006', error: { driverError: { code: '25006' } }, failure: 'needs-primary' },
    {
      name: "TypeORM's QueryFailedError around a 25006",
      error: queryFailed(pgError('25006', 'cannot execute DELETE in a read-only transaction')),
      failure: 'needs-primary',
    },
    {
      name: "TypeORM's QueryFailedError around 0A000 during recovery",
      error: queryFailed(pgError('0A000', 'cannot execute NOTIFY during recovery')),
      failure: 'needs-primary',
    },
    // the same SQLSTATEs for other reasons: the statement's own failure
    {
      name: '55000 without "recovery" (currval before nextval): the statement failed',
      error: pgError('55000', 'currval of sequence "s" is not yet defined in this session'),
      failure: undefined,
    },
    {
      name: '0A000 without "recovery" (a feature not supported): the statement failed',
      error: pgError('0A000', 'FOR UPDATE is not allowed with aggregate functions'),
      failure: undefined,
    },
    { name: '"recovery is in progress" without a SQLSTATE: not a refusal', error: new Error('recovery is in progress'), failure: undefined },
    // the server or connection is gone
    { name: 'ECONNREFUSED', error: pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), failure: 'unreachable' },
    { name: 'ECONNREFUSED inside driverError', error: wrapped(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')), failure: 'unreachable' },
    { name: 'ECONNRESET', error: pgError('ECONNRESET', 'read ECONNRESET'), failure: 'unreachable' },
    { name: 'a lost connection (no code)', error: new Error('Connection terminated unexpectedly'), failure: 'unreachable' },
    { name: '57P01 admin shutdown', error: pgError('57P01', 'terminating connection due to administrator command'), failure: 'unreachable' },
    { name: '08006 connection failure', error: pgError('08006', 'connection failure'), failure: 'unreachable' },
    // recovery conflicts
    { name: '40001 "conflict with recovery"', error: pgError('40001', 'canceling statement due to conflict with recovery'), failure: 'recovery-conflict' },
    {
      name: '40001 "conflict with recovery" inside driverError',
      error: wrapped(pgError('40001', 'canceling statement due to conflict with recovery')),
      failure: 'recovery-conflict',
    },
    { name: '40P01 from a standby', error: pgError('40P01', 'canceling statement due to conflict with recovery'), failure: 'recovery-conflict' },
    // the statement itself failed
    { name: '23505 unique violation', error: pgError('23505', 'duplicate key value violates unique constraint "note_pkey"'), failure: undefined },
    {
      name: '23505 inside QueryFailedError',
      error: queryFailed(pgError('23505', 'duplicate key value violates unique constraint "note_pkey"')),
      failure: undefined,
    },
    { name: '40001 serialization failure on the primary', error: pgError('40001', 'could not serialize access due to concurrent update'), failure: undefined },
    { name: '42601 syntax error (mentioning "recovery")', error: pgError('42601', 'syntax error at or near "recovery"'), failure: undefined },
    { name: '57014 statement timeout', error: pgError('57014', 'canceling statement due to statement timeout'), failure: undefined },
    { name: 'undefined', error: undefined, failure: undefined },
    { name: 'null', error: null, failure: undefined },
    { name: 'a string', error: 'recovery is in progress', failure: undefined },
    { name: 'a numeric code', error: { code: 25006, message: 'cannot execute INSERT in a read-only transaction' }, failure: undefined },
  ])('$name: $failure', ({ error, failure }) => {
    expect(statementFailure(error)).toBe(failure);
  });
});
