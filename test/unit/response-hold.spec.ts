import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Logger } from '@nestjs/common';
import onHeaders from 'on-headers';
import { holdFirstOutput } from '../../lib/routing/response-hold.js';

/** A promise and its resolve, to settle a hold when the test says. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * A real HTTP server whose handler installs a header-time listener (as the middleware's on-headers
 * does, writing `x-token` from `token.value`) and then the hold, before answering as `answer` does.
 */
async function serve(
  ready: () => Promise<void> | undefined,
  answer: (response: ServerResponse, request: IncomingMessage) => void,
  token: { value: string },
): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    onHeaders(response, () => response.setHeader('x-token', token.value));
    holdFirstOutput(response, ready);
    answer(response, request);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('holdFirstOutput: a response waits for what its headers must carry', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });
  const start = async (...args: Parameters<typeof serve>) => {
    const served = await serve(...args);
    servers.push(served.server);
    return served.url;
  };

  it('nothing to wait for: the first call goes through at once, and the response is left with its own methods', async () => {
    const seen: { sameEnd: boolean; sent: boolean }[] = [];
    const url = await start(
      () => undefined,
      (response) => {
        response.end('hello');
        seen.push({ sameEnd: response.end === ServerResponse.prototype.end, sent: response.headersSent });
      },
      { value: 'now' },
    );
    const reply = await fetch(url);
    expect(await reply.text()).toBe('hello');
    expect(reply.headers.get('x-token')).toBe('now');
    // Synchronously sent, as without the hold.
    expect(seen).toEqual([{ sameEnd: true, sent: true }]);
  });

  it.each([
    ['end(body), as Express res.json() ends', (response: ServerResponse) => response.end('{"id":1}')],
    [
      'writeHead then end, as Fastify sends',
      (response: ServerResponse) => {
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end('{"id":1}');
      },
    ],
    [
      'flushHeaders, writes, then end, as an event stream or a stream does',
      (response: ServerResponse) => {
        response.flushHeaders();
        response.write('{"id"');
        response.write(':1}');
        response.end();
      },
    ],
  ])('%s: held until ready settles, then made in order, with the header written after the wait', async (_, answer) => {
    const token = { value: 'before the wait' };
    const wait = gate();
    let asked = 0;
    const url = await start(
      () => {
        asked++;
        return wait.promise;
      },
      answer,
      token,
    );
    const replying = fetch(url);
    await new Promise((resolve) => setTimeout(resolve, 100));
    token.value = 'after the wait';
    wait.open();
    const reply = await replying;
    expect(await reply.text()).toBe('{"id":1}');
    expect(reply.headers.get('x-token')).toBe('after the wait');
    // Asked once, at the first call: the calls after it only queue.
    expect(asked).toBe(1);
  });

  it('a failed wait releases the response too', async () => {
    const url = await start(
      () => Promise.reject(new Error('the store is down')),
      (response) => response.end('still answered'),
      { value: 'x' },
    );
    expect(await (await fetch(url)).text()).toBe('still answered');
  });

  it('a stream piped in waits (its writes answer false) and goes on at "drain": every chunk arrives, in order', async () => {
    const wait = gate();
    const chunks = Array.from({ length: 200 }, (_, i) => `chunk ${i};`);
    const refused: boolean[] = [];
    const url = await start(
      () => wait.promise,
      (response) => {
        const write = response.write;
        // What the pipe is told while the response is held.
        response.write = (...args: unknown[]) => {
          const accepted = Reflect.apply(write, response, args) as boolean;
          if (!accepted) refused.push(accepted);
          return accepted;
        };
        Readable.from(chunks).pipe(response);
      },
      { value: 'x' },
    );
    const replying = fetch(url);
    await new Promise((resolve) => setTimeout(resolve, 100));
    wait.open();
    expect(await (await replying).text()).toBe(chunks.join(''));
    expect(refused.length).toBeGreaterThanOrEqual(1);
  });

  it('a held call that fails once made (a bad status) ends the connection instead of answering, with a warning', async () => {
    const warnings: string[] = [];
    Logger.overrideLogger({ log: () => undefined, error: () => undefined, warn: (message: string) => warnings.push(message) });
    const wait = gate();
    const url = await start(
      () => wait.promise,
      (response) => {
        response.writeHead(1000);
        response.end('never sent');
      },
      { value: 'x' },
    );
    const replying = fetch(url).then(
      () => 'answered',
      () => 'connection ended',
    );
    wait.open();
    expect(await replying).toBe('connection ended');
    Logger.overrideLogger(['error', 'warn', 'log']);
    expect(warnings).toEqual([expect.stringContaining('Invalid status code: 1000')]);
  });

  it('headers already sent when the hold was installed: nothing is held', async () => {
    let asked = 0;
    const server = createServer((_request, response) => {
      response.flushHeaders();
      holdFirstOutput(response, () => {
        asked++;
        return new Promise(() => undefined);
      });
      response.end('late');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const reply = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    expect(await reply.text()).toBe('late');
    expect(asked).toBe(0);
  });
});
