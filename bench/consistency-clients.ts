/**
 * The simulated clients of bench/consistency.ts. Each one, in a loop: thinks, then writes (POST,
 * `writeShare` of its requests) or reads its own latest row (GET). Every read is checked against
 * the client's own latest acknowledged write (stale?), against which server answered (replica?),
 * and against the oracle: could it safely have gone to a replica, i.e. had at least the replicas'
 * lag passed since that write was acknowledged (or had the client never written)?
 */
import { Agent, request } from 'node:http';
import { CookieJar } from './cookie-jar.js';
import { percentile } from './stats.js';

export interface ClientRunOptions {
  url: string;
  /** Client ids firstClient … firstClient + clients − 1: fresh for each run, so no run sees another's rows. */
  firstClient: number;
  clients: number;
  /** Mean think time; each one is drawn uniformly from thinkMs × (1 ± thinkJitter). */
  thinkMs: number;
  thinkJitter: number;
  writeShare: number;
  /** The clients run this long before their requests count (their writes still count as history). */
  warmupMs: number;
  durationMs: number;
  /** The replicas' apply delay: the oracle's threshold. */
  lagMs: number;
  replicaPorts: number[];
  primaryPort: number;
  seed: number;
}

export interface RunResult {
  reads: number;
  replicaReads: number;
  /** Reads that missed the client's own latest acknowledged write. */
  staleReads: number;
  /** Stale reads the primary served: must be 0, else the bench itself is wrong. */
  staleOnPrimary: number;
  /** Reads that carried a cookie (a token, with PinDb). */
  readsWithCookie: number;
  /** Reads the oracle would send to a replica. */
  oracleReads: number;
  /** Oracle-safe reads that went to the primary, and oracle-unsafe ones that went to a replica. */
  primaryWhenSafe: number;
  replicaWhenUnsafe: number;
  writes: number;
  /** Reads that carried a cookie (a token), those a replica served, and their latency (ms). */
  tokenReads: number;
  tokenReplicaReads: number;
  tokenLatencyP50: number;
  tokenLatencyP99: number;
  /** The clients and think time of the run, so that a saved row says what it measured. */
  clients: number;
  thinkMs: number;
  /** Replay polls the app's shared poll loop made during the measured window (set by the bench, from the app). */
  replayPolls?: number;
  errors: number;
  firstError?: string;
  /** Measured requests per second. */
  rate: number;
  latencyP50: number;
  latencyP99: number;
  /** How late the think timers fired, on average (ms): the load generator's own saturation. */
  timerLateMs: number;
}

export interface Response {
  status: number;
  text: string;
  setCookie?: string[];
}

/** One HTTP request over `agent` (keep-alive), with the jar's cookies; the jar takes the response's. */
export function send(agent: Agent, base: URL, method: 'GET' | 'POST', path: string, jar: CookieJar): Promise<Response> {
  return new Promise((resolve, reject) => {
    const cookie = jar.header();
    const headers: Record<string, string> = { 'content-length': '0' };
    if (cookie) headers.cookie = cookie;
    const req = request({ host: base.hostname, port: base.port, method, path, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', reject);
      res.on('end', () => {
        jar.store(res.headers['set-cookie']);
        resolve({ status: res.statusCode ?? 0, text, setCookie: res.headers['set-cookie'] });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A small seeded generator (mulberry32): each client's choices repeat from run to run and variant to variant. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runClients(options: ClientRunOptions): Promise<RunResult> {
  const { thinkMs, thinkJitter, writeShare, lagMs } = options;
  const base = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const end = measureFrom + options.durationMs;
  const result: RunResult = {
    reads: 0,
    replicaReads: 0,
    readsWithCookie: 0,
    staleReads: 0,
    staleOnPrimary: 0,
    oracleReads: 0,
    primaryWhenSafe: 0,
    replicaWhenUnsafe: 0,
    writes: 0,
    tokenReads: 0,
    tokenReplicaReads: 0,
    tokenLatencyP50: 0,
    tokenLatencyP99: 0,
    clients: options.clients,
    thinkMs,
    errors: 0,
    rate: 0,
    latencyP50: 0,
    latencyP99: 0,
    timerLateMs: 0,
  };
  const latencies: number[] = [];
  const tokenLatencies: number[] = [];
  let late = 0;
  let sleeps = 0;

  const client = async (k: number) => {
    const id = options.firstClient + k;
    const random = seeded(options.seed * 100_003 + k);
    const jar = new CookieJar();
    let lastWrite: { id: number; ackedAt: number } | undefined;
    await sleep(random() * thinkMs); // spread the clients over one think time
    while (performance.now() < end) {
      const write = random() < writeShare;
      const sentAt = performance.now();
      const measured = sentAt >= measureFrom;
      const withCookie = jar.header() !== undefined;
      try {
        const response = await send(agent, base, write ? 'POST' : 'GET', `/clients/${id}/${write ? 'rows' : 'latest'}`, jar);
        const doneAt = performance.now();
        if (response.status >= 300) throw new Error(`${write ? 'POST' : 'GET'} for client ${id}: ${response.status} ${response.text.slice(0, 300)}`);
        const body = JSON.parse(response.text) as { id: number; port?: number };
        if (measured) latencies.push(doneAt - sentAt);
        if (write) {
          lastWrite = { id: body.id, ackedAt: doneAt };
          if (measured) result.writes++;
        } else if (measured) {
          const onReplica = options.replicaPorts.includes(body.port!);
          if (!onReplica && body.port !== options.primaryPort) throw new Error(`client ${id}: read served by unknown port ${body.port}`);
          const stale = lastWrite !== undefined && body.id < lastWrite.id;
          const safe = lastWrite === undefined || sentAt - lastWrite.ackedAt >= lagMs;
          result.reads++;
          if (onReplica) result.replicaReads++;
          if (withCookie) {
            result.readsWithCookie++;
            result.tokenReads++;
            if (onReplica) result.tokenReplicaReads++;
            tokenLatencies.push(doneAt - sentAt);
          }
          if (stale) result.staleReads++;
          if (stale && !onReplica) result.staleOnPrimary++;
          if (safe) result.oracleReads++;
          if (safe && !onReplica) result.primaryWhenSafe++;
          if (!safe && onReplica) result.replicaWhenUnsafe++;
        }
      } catch (error) {
        if (measured) result.errors++;
        result.firstError ??= (error as Error).message;
      }
      // Jittered, so that reads land at every distance from the last write, not only at multiples of the think time.
      // Whole milliseconds: Node's timers round fractions down, which would read as timers firing early.
      const think = Math.round(thinkMs * (1 - thinkJitter + 2 * thinkJitter * random()));
      const before = performance.now();
      await sleep(think);
      late += performance.now() - before - think;
      sleeps++;
    }
  };

  await Promise.all(Array.from({ length: options.clients }, (_, k) => client(k)));
  agent.destroy();
  result.rate = latencies.length / (options.durationMs / 1000);
  result.latencyP50 = latencies.length ? percentile(latencies, 50) : 0;
  result.latencyP99 = latencies.length ? percentile(latencies, 99) : 0;
  result.timerLateMs = sleeps ? late / sleeps : 0;
  result.tokenLatencyP50 = tokenLatencies.length ? percentile(tokenLatencies, 50) : 0;
  result.tokenLatencyP99 = tokenLatencies.length ? percentile(tokenLatencies, 99) : 0;
  return result;
}
