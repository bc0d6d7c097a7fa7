import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of one server that holds every chunk, each way, for `delayMs` before
 * passing it on: a server that is far away (or on a congested link), for the replica-selection
 * specs. `delayMs` may change at any time; chunks keep their order whatever it becomes.
 */
export class DelayProxy {
  /** Each chunk waits this long, in each direction: a statement's round trip takes about twice it more. */
  delayMs: number;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    delayMs: number,
  ) {
    this.delayMs = delayMs;
  }

  /** Listens on 127.0.0.1, on a free port, forwarding each connection to `target`. */
  static async start(target: { host?: string; port: number }, delayMs = 0): Promise<DelayProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('DelayProxy: the server has no TCP address');
    const proxy = new DelayProxy(server, address.port, delayMs);
    server.on('connection', (client) => proxy.forward(client, target));
    return proxy;
  }

  /** Stops listening and cuts every connection through it. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket, target: { host?: string; port: number }): void {
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      // Either side failing or closing ends the pair, as a broken link would.
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    this.delayedPipe(client, upstream);
    this.delayedPipe(upstream, client);
  }

  /** `from` → `to`, each chunk sent `delayMs` after it arrived, in arrival order. */
  private delayedPipe(from: Socket, to: Socket): void {
    const queue: { chunk: Buffer; due: number }[] = [];
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const flush = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0].due <= now) to.write(queue.shift()!.chunk);
      if (queue.length > 0) timer = setTimeout(flush, queue[0].due - now);
      else if (ended) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      queue.push({ chunk, due: Date.now() + this.delayMs });
      timer ??= setTimeout(flush, Math.max(0, queue[0].due - Date.now()));
    });
    from.on('end', () => {
      ended = true;
      timer ??= setTimeout(flush, 0);
    });
  }
}
