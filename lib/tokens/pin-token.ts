import { formatLsn, parseLsn } from './lsn.js';

/** What a client carries for one set: the primary's WAL position after its last write (lsn mode), and when that stops mattering. */
export interface SetToken {
  /** Absent in time mode: the set is read from the primary until `expiresAt`. */
  lsn?: bigint;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** A client's token: per set, what its next reads must see. */
export type PinToken = Map<string, SetToken>;

/** The signed part, kept short since it travels in every request: { "s": { set: [lsn | 0, expiresAt seconds] } }. */
interface Payload {
  s: Record<string, [string | 0, number]>;
}

export function serializeToken(token: PinToken): string {
  const s: Payload['s'] = {};
  for (const [set, { lsn, expiresAt }] of token) s[set] = [lsn === undefined ? 0 : formatLsn(lsn), Math.ceil(expiresAt / 1000)];
  return JSON.stringify({ s } satisfies Payload);
}

/**
 * Reads a payload that has passed signature checks. Entries that are malformed, expired or name an
 * unknown set are left out; a payload that is not an object yields an empty token.
 */
export function deserializeToken(json: string, knownSets: ReadonlySet<string>, now = Date.now()): PinToken {
  const token: PinToken = new Map();
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    return token;
  }
  const sets = (payload as Payload | null)?.s;
  if (typeof sets !== 'object' || sets === null || Array.isArray(sets)) return token;
  for (const [set, entry] of Object.entries(sets)) {
    if (!knownSets.has(set) || !Array.isArray(entry) || entry.length !== 2) continue;
    const [lsnText, expiresSeconds] = entry;
    if (typeof expiresSeconds !== 'number' || !Number.isFinite(expiresSeconds) || expiresSeconds * 1000 <= now) continue;
    const lsn = lsnText === 0 ? undefined : parseLsn(lsnText);
    if (lsnText !== 0 && lsn === undefined) continue;
    token.set(set, { lsn, expiresAt: expiresSeconds * 1000 });
  }
  return token;
}

/** Both tokens' entries; for a set in both, the later position and expiry. */
export function mergeTokens(a: PinToken, b: PinToken): PinToken {
  const merged: PinToken = new Map(a);
  for (const [set, entry] of b) {
    const other = merged.get(set);
    if (!other) {
      merged.set(set, entry);
      continue;
    }
    const lsn = other.lsn === undefined || entry.lsn === undefined ? (other.lsn ?? entry.lsn) : other.lsn > entry.lsn ? other.lsn : entry.lsn;
    merged.set(set, { lsn, expiresAt: Math.max(other.expiresAt, entry.expiresAt) });
  }
  return merged;
}
