import { Observable, tap } from 'rxjs';
import type { ContextState } from './context-state.js';
import type { RoutingStats } from './routing-stats.js';

/** Express's response or Fastify's reply: the two are told apart by Fastify's `raw`. */
type HttpResponse = {
  headersSent?: boolean;
  raw?: { headersSent: boolean };
  header?: (name: string, value: string) => unknown;
  getHeader?: (name: string) => unknown;
  setHeader?: (name: string, value: string) => unknown;
};

interface Figures {
  primary: number;
  replica: number;
  retries: number;
  fallbacks: number;
}

/**
 * The request's statement counts as a Server-Timing value, which browsers' devtools show in the
 * request's Timing tab: `pindb;desc="primary 1, replica 3, retries 0, fallbacks 0"`, the totals of
 * every set; when the request used more than one set, one `pindb-set` entry per set follows, its
 * description starting with the set's name. Counts are not durations, so there is no `dur`.
 */
export function serverTimingValue(stats: RoutingStats): string {
  const sets = Object.entries(stats.sets);
  const total: Figures = { primary: 0, replica: 0, retries: 0, fallbacks: 0 };
  for (const [, figures] of sets) {
    total.primary += figures.primary;
    total.replica += figures.replica;
    total.retries += figures.retries;
    total.fallbacks += figures.fallbacks;
  }
  const entries = [`pindb;desc=${quoted(describe(total))}`];
  if (sets.length > 1) for (const [set, figures] of sets) entries.push(`pindb-set;desc=${quoted(`${set}: ${describe(figures)}`)}`);
  return entries.join(', ');
}

/** Adds the request's Server-Timing entries to those the app may have set. Does nothing once the headers are sent. */
export function writeServerTiming(response: HttpResponse, context: ContextState): void {
  const fastify = response.raw !== undefined && typeof response.header === 'function';
  if (fastify ? response.raw!.headersSent : response.headersSent) return;
  const existing = response.getHeader?.('server-timing');
  const ours = serverTimingValue(context.stats.snapshot());
  const value = existing === undefined || existing === '' ? ours : `${Array.isArray(existing) ? existing.join(', ') : String(existing)}, ${ours}`;
  if (fastify) response.header!('server-timing', value);
  else response.setHeader!('Server-Timing', value);
}

/** For routes where nothing else hands out a token (routing disabled): the header goes on the first answer or error. */
export function withServerTiming<T>(source: Observable<T>, response: HttpResponse, context: ContextState): Observable<T> {
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    writeServerTiming(response, context);
  };
  return source.pipe(tap({ next: write, error: write }));
}

function describe({ primary, replica, retries, fallbacks }: Figures): string {
  return `primary ${primary}, replica ${replica}, retries ${retries}, fallbacks ${fallbacks}`;
}

/**
 * An RFC 9110 quoted-string. Set names may hold quotes or backslashes (escaped), or characters a
 * header cannot carry (replaced: Node would throw on them and fail the response).
 */
function quoted(text: string): string {
  return `"${text.replace(/[^\t\x20-\x7e]/g, '?').replace(/[\\"]/g, '\\$&')}"`;
}
