/**
 * The steady load of bench/failover.ts: `clients` loops, each sending GET /read as soon as its last
 * one answered (closed loop, keep-alive), each request timed on its own and bounded by a client-side
 * timeout, so that a request hanging on a frozen replica counts as failed instead of stalling the run.
 * With `writeEvery`, one request in that many is a POST /write of a new id instead.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { ReadAnswer } from './failover-app.js';

export interface RequestRecord {
  /** When it was sent, ms since the load's t0 (negative: during the warm-up). */
  start: number;
  latency: number;
  /** The server that answered; undefined when the request failed. */
  port?: number;
  retries?: number;
  /** Why it failed: an HTTP status, a client timeout or a socket error. */
  error?: string;
  /** A POST /write (absent: a GET /read), and the id of the row it inserts. */
  write?: { id: string };
}

export interface LoadOptions {
  url: string;
  clients: number;
  timeoutMs: number;
  /** The load's t0 is `performance.now()` at this value; requests run until `endAt` (same clock). */
  t0: number;
  endAt: number;
  /** One request in `writeEvery` is a POST /write (of an id made here, never sent twice); 0 or absent: reads only. */
  writeEvery?: number;
}

/** One GET, bounded by `timeoutMs`; never rejects: a failure is a record with `error`. */
export function getRead(agent: Agent, base: URL, path: string, timeoutMs: number, t0: number): Promise<RequestRecord> {
  return send(agent, base, 'GET', path, timeoutMs, t0);
}

/** One POST /write of row `id`, as getRead: bounded, never rejects. */
export async function postWrite(agent: Agent, base: URL, id: string, timeoutMs: number, t0: number): Promise<RequestRecord> {
  return { ...(await send(agent, base, 'POST', `/write?id=${id}`, timeoutMs, t0)), write: { id } };
}

function send(agent: Agent, base: URL, method: 'GET' | 'POST', path: string, timeoutMs: number, t0: number): Promise<RequestRecord> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (fields: Partial<RequestRecord>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ start: sentAt - t0, latency: performance.now() - sentAt, ...fields });
    };
    const req = request({ host: base.hostname, port: base.port, method, path, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', (error) => done({ error: error.message }));
      res.on('end', () => {
        if (res.statusCode !== 200) return done({ error: `HTTP ${res.statusCode}${errorMessage(text)}` });
        const answer = JSON.parse(text) as ReadAnswer;
        done({ port: answer.port, retries: answer.retries });
      });
    });
    // The app keeps working on an abandoned request: only the client gives up on it.
    const timer = setTimeout(() => {
      done({ error: `client timeout (${timeoutMs} ms)` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error) => done({ error: error.message }));
    req.end();
  });
}

/** Runs the load until `endAt`; resolves with every request's record, in the order they ended. */
export async function runLoad({ url, clients, timeoutMs, t0, endAt, writeEvery = 0 }: LoadOptions): Promise<RequestRecord[]> {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const records: RequestRecord[] = [];
  let sent = 0;
  const client = async () => {
    while (performance.now() < endAt) {
      const n = sent++;
      const write = writeEvery > 0 && n % writeEvery === writeEvery - 1;
      records.push(await (write ? postWrite(agent, base, randomUUID(), timeoutMs, t0) : getRead(agent, base, `/read?i=${n}`, timeoutMs, t0)));
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  agent.destroy();
  return records;
}

/** Before a run: unpinned reads are answered, by the servers of `replicaPorts` only. */
export async function checkReplicaReads(url: string, replicaPorts: number[], timeoutMs: number): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  for (let i = 0; i < 8; i++) {
    const record = await getRead(agent, new URL(url), `/read?i=${i}`, timeoutMs, performance.now());
    if (record.error || !replicaPorts.includes(record.port!)) throw new Error(`${url}/read: ${record.error ?? `served by :${record.port}, not by a replica`}`);
  }
}

/** ': ' and the message of an error answer's JSON body (Nest's `{ statusCode, message }`), or ''. */
function errorMessage(body: string): string {
  try {
    const { message } = JSON.parse(body) as { message?: unknown };
    return typeof message === 'string' ? `: ${message}` : '';
  } catch {
    return '';
  }
}
