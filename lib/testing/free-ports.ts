import { createServer, Server } from 'node:net';
import { PgClusterError } from './pg-cluster.errors.js';

/**
 * Picks `count` distinct free TCP ports on `host` by holding them all open at once, or, with
 * `basePort`, checks that basePort .. basePort + count - 1 are free.
 */
export async function reservePorts(host: string, count: number, basePort?: number, labels: string[] = []): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const wanted = basePort === undefined ? 0 : basePort + i;
      const server = await listen(host, wanted).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE' || error.code === 'EACCES') {
          throw new PgClusterError(
            `Port ${wanted} (${labels[i] ?? `server ${i}`}) on ${host} is ${error.code === 'EACCES' ? 'not allowed' : 'in use'}: ` +
              'stop whatever listens there, choose another basePort, or omit basePort to use free ports.',
          );
        }
        throw error;
      });
      servers.push(server);
      ports.push((server.address() as { port: number }).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}
