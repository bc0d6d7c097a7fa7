import type { PoolClient } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { ReplicaHost } from '../health/replica-host.js';
import { PinDbContext } from '../routing/pin-db.context.js';
import type { SetRouter } from '../routing/set-router.js';

type Release = (error?: Error | boolean) => void;

/** Which replica a checked-out connection belongs to; a connection not in here is the primary's. */
const replicaOf = new WeakMap<object, ReplicaHost>();

export function replicaOfConnection(connection: object | undefined): ReplicaHost | undefined {
  return connection ? replicaOf.get(connection) : undefined;
}

/**
 * Replaces the driver's `obtainSlaveConnection`, which picks a replica at random, with the set
 * router's choice; and gives each replica host its pool once the driver has connected.
 */
export function routeReplicaConnections(driver: PostgresDriver, router: SetRouter): void {
  router.attach(driver);
  const connect = driver.connect.bind(driver);
  driver.connect = async () => {
    await connect();
    driver.slaves.forEach((pool, i) => router.hosts.hosts[i]?.attach(pool));
  };

  // pg's callback API in one promise, rather than an async function around pool.connect(): this
  // runs for every read. The replica choice is synchronous unless the client's token makes it
  // ask the replicas how far they have replayed.
  const connectTo = (host: ReplicaHost | undefined): Promise<[PoolClient, Release]> => {
    if (!host) return driver.obtainMasterConnection() as Promise<[PoolClient, Release]>;
    return new Promise((resolve, reject) =>
      host.connectionPool!.connect((error, client, release) => {
        if (error || !client) return reject(error);
        replicaOf.set(client, host);
        resolve([client, release]);
      }),
    );
  };
  driver.obtainSlaveConnection = () => {
    const choice = router.chooseReplica(PinDbContext.current());
    return choice instanceof Promise ? choice.then(connectTo) : connectTo(choice);
  };
}
