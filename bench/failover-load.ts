/**
 * The steady load of bench/failover.ts: `clients` loops, each sending GET /read as soon as its last
 * one answered (closed loop, keep-alive), each request timed on its own and bounded by a client-side
 * timeout, so that a request hanging on a frozen replica counts as failed instead of stalling the run.
 */
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
}

export interface LoadOptions {
  url: string;
  clients: number;
  timeoutMs: number;
  /** The load's t0 is `performance.now()` at this value; requests run until `endAt` (same clock). */
  t0: number;
  endAt: number;
}

/** One GET, bounded by `timeoutMs`; never rejects: a failure is a record with `error`. */
export function getRead(agent: Agent, base: URL, path: string, timeoutMs: number, t0: number): Promise<RequestRecord> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (fields: Partial<RequestRecord>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ start: sentAt - t0, latency: performance.now() - sentAt, ...fields });
    };
    const req = request({ host: base.hostname, port: base.port, path, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', (error) => done({ error: error.message }));
      res.on('end', () => {
        if (res.statusCode !== 200) return done({ error: `HTTP ${res.statusCode}` });
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
export async function runLoad({ url, clients, timeoutMs, t0, endAt }: LoadOptions): Promise<RequestRecord[]> {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const records: RequestRecord[] = [];
  let sent = 0;
  const client = async () => {
    while (performance.now() < endAt) records.push(await getRead(agent, base, `/read?i=${sent++}`, timeoutMs, t0));
  };
  await Promise.all(Array.from({ length: clients }, client));
  agent.destroy();
  return records;
}
