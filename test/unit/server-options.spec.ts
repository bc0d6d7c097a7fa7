import { mergeServerOptions, serverLabel } from '../../lib/options/server-options.js';

describe('mergeServerOptions', () => {
  it("merges a replica's fields over the primary's", () => {
    expect(mergeServerOptions({ host: 'primary', port: 5432, username: 'app', password: 'secret', database: 'shop' }, { host: 'replica-1' })).toEqual({
      host: 'replica-1',
      port: 5432,
      username: 'app',
      password: 'secret',
      database: 'shop',
    });
  });

  it("splits a primary's URL so that the replica's host wins", () => {
    expect(mergeServerOptions({ url: 'postgres://app:s%40cret@primary:6432/shop' }, { host: 'replica-2', port: 5433 })).toEqual({
      host: 'replica-2',
      port: 5433,
      username: 'app',
      password: 's@cret',
      database: 'shop',
    });
  });

  it("keeps a replica's own URL", () => {
    expect(mergeServerOptions({ url: 'postgres://a@p/db', ssl: true }, { url: 'postgres://b@r/db' })).toEqual({ url: 'postgres://b@r/db', ssl: true });
  });

  it('labels a server host:port', () => {
    expect(serverLabel({ host: '10.0.0.1', port: 5433 })).toBe('10.0.0.1:5433');
    expect(serverLabel({ url: 'postgres://u@db.example:6543/x' })).toBe('db.example:6543');
    expect(serverLabel({})).toBe('localhost:5432');
  });
});
