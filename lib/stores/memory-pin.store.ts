import type { PinStore } from './pin-store.js';

export interface MemoryPinStoreOptions {
  /** The most keys kept; the oldest goes first when full. Default: 100000 */
  maxEntries?: number;
}

/** A PinStore in this process's memory: bounded in size, entries expire with their token. */
export class MemoryPinStore implements PinStore {
  private readonly entries = new Map<string, { token: string; expiresAt: number }>();
  private readonly maxEntries: number;

  constructor({ maxEntries = 100_000 }: MemoryPinStoreOptions = {}) {
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.token;
  }

  async set(key: string, token: string, ttlSeconds: number): Promise<void> {
    // Re-inserted at the end: Map order is insertion order, so the first key is the oldest.
    this.entries.delete(key);
    this.entries.set(key, { token, expiresAt: Date.now() + ttlSeconds * 1000 });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}
