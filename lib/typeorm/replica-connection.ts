import type { PoolClient } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { NoDatabaseAvailableError } from '../errors/no-database-available.error.js';
import type { ReplicaHost } from '../health/replica-host.js';
import type { RoutingFrame } from '../routing/context-state.js';
import { PinDbContext } from '../routing/pin-db.context.js';
import type { SetRouter } from '../routing/set-router.js';
import { installServerPools } from './server-pools.js';

type Release = (error?: Error | boolean) => void;
type Connection = [PoolClient, Release];

/** Which replica a checked-out connection belongs to; a connection not in here is the primary's. */
const replicaOf = new WeakMap<object, ReplicaHost>();

export function replicaOfConnection(connection: object | undefined): ReplicaHost | undefined {
  return connection ? replicaOf.get(connection) : undefined;
}

/**
 * A replica the next `obtainSlaveConnection` must not choose: set just around a retry after a
 * recovery conflict. TypeORM asks for a connection synchronously inside `query()`, so the value
 * cannot leak to another caller.
 */
let avoidOnce: ReplicaHost | undefined;

export function avoidingReplica<T>(host: ReplicaHost, fn: () => T): T {
  avoidOnce = host;
  try {
    return fn();
  } finally {
    avoidOnce = undefined;
  }
}

/**
 * Replaces the driver's connection hooks:
 * - `obtainSlaveConnection`, which picks a replica at random and surfaces its errors, by the set
 *   router's choice among readable replicas; a replica that fails to connect is marked down and
 *   the next one is tried, then the primary;
 * - `obtainMasterConnection`, so that a primary that cannot be reached is a NoDatabaseAvailableError
 *   naming the set and the server.
 */
export function routeReplicaConnections(driver: PostgresDriver, router: SetRouter): void {
  router.attach(driver);
  installServerPools(driver, router);

  const obtainMaster = driver.obtainMasterConnection.bind(driver) as () => Promise<Connection>;
  const toPrimary = (): Promise<Connection> =>
    obtainMaster().catch((error: unknown) => {
      throw new NoDatabaseAvailableError(router.name, router.set.primary.label, { cause: error });
    });
  driver.obtainMasterConnection = toPrimary;

  // pg's callback API in one promise, rather than an async function around pool.connect(): this
  // runs for every read. The replica choice is synchronous unless the client's token makes it
  // ask the replicas how far they have replayed.
  const connectTo = (host: ReplicaHost | undefined, frame: RoutingFrame | undefined, avoid: ReplicaHost | undefined): Promise<Connection> => {
    if (!host) {
      router.fellBackToPrimary(frame);
      return toPrimary();
    }
    return new Promise((resolve) =>
      host.connectionPool!.connect((error, client, release) => {
        if (error || !client) {
          // Marked down, so the next choice skips it: the loop ends at the primary at the latest.
          router.replicaFailed(host, error, frame);
          return resolve(obtain(frame, avoid));
        }
        replicaOf.set(client, host);
        resolve([client, release]);
      }),
    );
  };
  const obtain = (frame: RoutingFrame | undefined, avoid: ReplicaHost | undefined): Promise<Connection> => {
    const choice = router.chooseReplica(frame, avoid);
    return choice instanceof Promise ? choice.then((host) => connectTo(host, frame, avoid)) : connectTo(choice, frame, avoid);
  };
  driver.obtainSlaveConnection = () => obtain(PinDbContext.current(), avoidOnce);
}
