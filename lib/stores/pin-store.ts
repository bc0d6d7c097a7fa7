/**
 * Where tokens of cookieless clients are kept, under a key the app derives from the request
 * (`clientKey`, e.g. the user id): a client's token then follows it across devices and app
 * instances. Implementations: MemoryPinStore (one process), RedisPinStore (`nestjs-pindb/redis`).
 */
export interface PinStore {
  get(key: string): Promise<string | undefined>;
  /**
   * Keeps `token` under `key` for `ttlSeconds`. `source`: who asked, e.g. the client's IP address
   * (req.ip), so a store can bound the keys one source holds; undefined when unknown. A store may
   * ignore it.
   */
  set(key: string, token: string, ttlSeconds: number, source?: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Injection token of the PinStore in use. */
export const PinStore = Symbol('PinStore');
