import { serverFailure } from '../../lib/health/server-failure.js';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
const queryFailed = (driverError: unknown) => Object.assign(new Error('query failed'), { driverError });

describe('serverFailure', () => {
  it.each([
    ['ECONNREFUSED', pgError('ECONNREFUSED')],
    ['ECONNRESET', pgError('ECONNRESET')],
    ['DNS', pgError('ENOTFOUND')],
    ['admin shutdown 57P01', pgError('57P01', 'terminating connection due to administrator command')],
    ['starting up 57P03', pgError('57P03', 'the database system is starting up')],
    ['connection exception class 08', pgError('08006')],
    ['lost connection (no code)', new Error('Connection terminated unexpectedly')],
    ['pg-pool acquire timeout', new Error('timeout exceeded when trying to connect')],
    ['pg query_timeout', new Error('Query read timeout')],
    ['wrapped by TypeORM', queryFailed(pgError('57P01'))],
  ])('%s: unreachable', (_name, error) => {
    expect(serverFailure(error)).toBe('unreachable');
  });

  it.each([
    ['40001 conflict with recovery', pgError('40001', 'canceling statement due to conflict with recovery')],
    ['40P01 from a standby', pgError('40P01', 'canceling statement due to conflict with recovery')],
    ['wrapped by TypeORM', queryFailed(pgError('40001', 'canceling statement due to conflict with recovery'))],
  ])('%s: recovery conflict', (_name, error) => {
    expect(serverFailure(error)).toBe('recovery-conflict');
  });

  it.each([
    ['statement_timeout 57014 (retrying would only run long again)', pgError('57014', 'canceling statement due to statement timeout')],
    ['a serialization failure on the primary', pgError('40001', 'could not serialize access due to concurrent update')],
    ['syntax error', pgError('42601', 'syntax error at or near "connection"')],
    ['unique violation', pgError('23505')],
    ['read-only transaction (handled on its own)', pgError('25006')],
    ['not an error object', undefined],
  ])('%s: not a server failure', (_name, error) => {
    expect(serverFailure(error)).toBeUndefined();
  });
});
