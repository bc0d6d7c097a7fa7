import type { ServerResponse } from 'node:http';
import type { ContextState } from './context-state.js';
import type { RoutingStats } from './routing-stats.js';

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
 * description starting with the set's name. Counts are not durations, so there is no `dur`. A
 * request that waited for a replica to replay its client's token (replayWaitMs) gets one more
 * entry, a duration: `pindb-replay-wait;dur=12.3`, its waits' milliseconds over every set.
 */
export function serverTimingValue(stats: RoutingStats): string {
  const sets = Object.entries(stats.sets);
  const total: Figures = { primary: 0, replica: 0, retries: 0, fallbacks: 0 };
  let waits = 0;
  let waitMs = 0;
  for (const [, figures] of sets) {
    total.primary += figures.primary;
    total.replica += figures.replica;
    total.retries += figures.retries;
    total.fallbacks += figures.fallbacks;
    waits += figures.replayWaits;
    waitMs += figures.replayWaitMs;
  }
  const entries = [`pindb;desc=${quoted(describe(total))}`];
  if (sets.length > 1) for (const [set, figures] of sets) entries.push(`pindb-set;desc=${quoted(`${set}: ${describe(figures)}`)}`);
  if (waits > 0) entries.push(`pindb-replay-wait;dur=${waitMs.toFixed(1)}`);
  return entries.join(', ');
}

/** Adds the request's Server-Timing entries to those the app set. Called as the response's headers are written. */
export function writeServerTiming(response: ServerResponse, context: ContextState): void {
  const existing = response.getHeader('server-timing');
  const ours = serverTimingValue(context.stats.snapshot());
  response.setHeader(
    'Server-Timing',
    existing === undefined || existing === '' ? ours : `${Array.isArray(existing) ? existing.join(', ') : String(existing)}, ${ours}`,
  );
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
