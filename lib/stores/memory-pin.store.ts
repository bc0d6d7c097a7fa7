import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import type { PinStore } from './pin-store.js';

export interface MemoryPinStoreOptions {
  /**
   * The most keys kept. When full, expired entries go first, then the oldest live one. Size it for
   * the tokens issued in a token's lifetime (pinSeconds): e.g. 200 writes a second × 15 s = 3000.
   * Default: 100000
   */
  maxEntries?: number;
  /**
   * The most keys one source (the `source` of `set`, e.g. the client's IP address) holds; past it,
   * that source's oldest entry goes. So a client minting keys (a fingerprint key from a varying
   * User-Agent) evicts its own tokens, not everyone else's. 1000 by default: well above the clients
   * behind one NAT or office proxy that write within one token lifetime, and 1 % of the default
   * maxEntries. Default: 1000
   */
  maxEntriesPerSource?: number;
  /** The clock, in epoch milliseconds (for tests). Default: Date.now */
  now?: () => number;
}

interface Entry {
  token: string;
  expiresAt: number;
  source?: string;
}

const OPTION_KEYS = ['maxEntries', 'maxEntriesPerSource', 'now'];

/** How far past the oldest entry a full store looks for an expired one to drop instead. */
const LOOKAHEAD = 32;

/**
 * A PinStore in this process's memory: bounded in size, entries expire with their token.
 *
 * The risk of a bound: an evicted live token means that client's next read may miss its own write
 * (it reads from a replica that has not replayed it yet). Expired entries go first and each source
 * is bounded, but many sources together can still fill the store: size `maxEntries` for the tokens
 * issued in a token lifetime. Each process has its own store: behind a load balancer, a client's
 * next request may reach another instance, which knows nothing of its token; use RedisPinStore
 * (`nestjs-pindb/redis`) across instances.
 */
export class MemoryPinStore implements PinStore {
  /** In insertion order: a key set again moves to the end. */
  private readonly entries = new Map<string, Entry>();
  /** Each source's keys, also in insertion order, so its first key is its oldest. */
  private readonly sources = new Map<string, Set<string>>();
  private readonly maxEntries: number;
  private readonly maxEntriesPerSource: number;
  private readonly now: () => number;

  constructor(options: MemoryPinStoreOptions = {}) {
    checkOptions(options);
    const { maxEntries = 100_000, maxEntriesPerSource = 1000, now = Date.now } = options;
    this.maxEntries = maxEntries;
    this.maxEntriesPerSource = maxEntriesPerSource;
    this.now = now;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(key);
      return undefined;
    }
    return entry.token;
  }

  async set(key: string, token: string, ttlSeconds: number, source?: string): Promise<void> {
    const now = this.now();
    this.remove(key);
    this.entries.set(key, { token, expiresAt: now + ttlSeconds * 1000, source });
    if (source !== undefined) this.addToSource(source, key);
    this.dropExpired(now);
    while (this.entries.size > this.maxEntries) this.remove(this.expiredNearFront(now) ?? this.entries.keys().next().value!);
  }

  async delete(key: string): Promise<void> {
    this.remove(key);
  }

  private addToSource(source: string, key: string): void {
    let keys = this.sources.get(source);
    if (!keys) this.sources.set(source, (keys = new Set()));
    keys.add(key);
    if (keys.size > this.maxEntriesPerSource) this.remove(keys.values().next().value!);
  }

  /**
   * Drops expired entries from the front, stopping at the first live one. Tokens mostly live the
   * same time (pinSeconds), so insertion order is close to expiry order and the expired entries are
   * at the front; each entry is dropped once, so this is O(1) amortised per set. An expired entry
   * behind a longer-lived one waits for it, for a get of its key, or for the store to be full.
   */
  private dropExpired(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.remove(key);
    }
  }

  /**
   * An expired entry among the first few behind a live front, if any: the one that goes before the
   * oldest live entry when the store is full. Looking no further keeps a set O(1).
   */
  private expiredNearFront(now: number): string | undefined {
    let looked = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) return key;
      if (++looked === LOOKAHEAD) return undefined;
    }
    return undefined;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    if (entry.source === undefined) return;
    const keys = this.sources.get(entry.source);
    keys?.delete(key);
    if (keys?.size === 0) this.sources.delete(entry.source);
  }
}

function checkOptions(options: MemoryPinStoreOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new PinDbConfigError('MemoryPinStore takes options such as { maxEntries: 100000, maxEntriesPerSource: 1000 }.');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new PinDbConfigError(`Unknown MemoryPinStore option ${key}: it has ${OPTION_KEYS.join(', ')}.`);
  }
  for (const key of ['maxEntries', 'maxEntriesPerSource'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new PinDbConfigError(`MemoryPinStore option ${key} must be a whole number > 0 (got ${JSON.stringify(value)}).`);
    }
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new PinDbConfigError('MemoryPinStore option now must be a function returning epoch milliseconds, such as Date.now.');
  }
}
