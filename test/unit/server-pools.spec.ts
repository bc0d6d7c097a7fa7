import type { PoolClient } from 'pg';
import { PrimaryHost } from '../../lib/health/primary-host.js';
import { ReplicaHost } from '../../lib/health/replica-host.js';
import type { SetRouter } from '../../lib/routing/set-router.js';
import { createServerPool } from '../../lib/typeorm/server-pools.js';

type Listener = (...args: unknown[]) => void;

/** Enough of pg's Pool: its config and the listeners put on it. */
class FakePool {
  readonly listeners = new Map<string, Listener>();
  constructor(readonly config: Record<string, unknown> = {}) {}
  on(event: string, listener: Listener): this {
    this.listeners.set(event, listener);
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    this.listeners.get(event)?.(...args);
  }
}

const primaryCredentials = { host: '10.0.0.1', port: 5432 };
const replicaCredentials = [
  { host: '10.0.0.2', port: 5432 },
  { host: '10.0.0.3', port: 5432 },
];
const client = { connection: { stream: { destroy: () => undefined } } } as unknown as PoolClient;

function setUp() {
  const primary = new PrimaryHost('10.0.0.1:5432');
  const hosts = replicaCredentials.map((c, i) => new ReplicaHost(i, `${c.host}:${c.port}`));
  const router = {
    name: 'default',
    primary,
    hosts: { hosts },
    configuredHosts: hosts,
    options: { health: { connectTimeoutMs: 1500 }, statementTimeoutMs: { primary: 100, replica: 200 } },
  } as unknown as SetRouter;
  const typeOrmPools: { options: Record<string, unknown>; credentials: unknown }[] = [];
  const typeormCreatePool = async (options: unknown, credentials: unknown) => {
    typeOrmPools.push({ options: options as Record<string, unknown>, credentials });
    return new FakePool();
  };
  const createPool = (options: unknown, credentials: unknown) =>
    createServerPool(router, FakePool as never, options as never, credentials as never, typeormCreatePool as never) as unknown as Promise<FakePool>;
  const options = { replication: { master: primaryCredentials, slaves: replicaCredentials }, extra: { keepAlive: true } };
  return { primary, hosts, typeOrmPools, createPool, options };
}

describe('createServerPool', () => {
  it("the primary's pool (its credentials are replication.master) is TypeORM's, with the timeouts, and tracks its checked-out connections on router.primary", async () => {
    const { primary, typeOrmPools, createPool, options } = setUp();
    const pool = await createPool(options, primaryCredentials);
    expect(typeOrmPools).toHaveLength(1);
    expect(typeOrmPools[0].options).toMatchObject({ connectTimeoutMS: 1500, extra: { keepAlive: true, statement_timeout: 100 } });
    pool.emit('acquire', client);
    expect(primary.connections.size).toBe(1);
    pool.emit('release', undefined, client);
    expect(primary.connections.size).toBe(0);
  });

  it("a replica's pool is made here, attached to its host, and tracks its checked-out connections on the host", async () => {
    const { hosts, typeOrmPools, createPool, options } = setUp();
    const pool = await createPool(options, replicaCredentials[1]);
    expect(typeOrmPools).toHaveLength(0);
    expect(hosts[1].connectionPool).toBe(pool);
    expect(hosts[0].connectionPool).toBeUndefined();
    expect(pool.config).toMatchObject({ host: '10.0.0.3', connectionTimeoutMillis: 1500, statement_timeout: 200, keepAlive: true });
    pool.emit('acquire', client);
    expect(hosts[1].connections.size).toBe(1);
    expect(hosts[1].connections.cutAll()).toBe(1);
  });

  it("without replication options, TypeORM passes the options themselves as the primary's credentials", async () => {
    const { typeOrmPools, createPool } = setUp();
    const options = { host: '10.0.0.1', port: 5432 };
    await createPool(options, options);
    expect(typeOrmPools).toHaveLength(1);
  });

  it.each([
    ["a copy of the primary's credentials (not the object of the options)", { ...primaryCredentials }],
    ['credentials of no server of the set', { host: '10.9.9.9', port: 6543 }],
  ])('%s: fails loudly instead of guessing the primary', async (_name, credentials) => {
    const { typeOrmPools, createPool, options } = setUp();
    await expect(createPool(options, credentials)).rejects.toThrow(/nestjs-pindb could not match the pool .* to a server of the set "default"/);
    expect(typeOrmPools).toHaveLength(0);
  });
});
