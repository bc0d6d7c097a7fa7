import { MemoryPinStore, PinDbConfigError, type MemoryPinStoreOptions } from '../../lib/index.js';

/** A store on a clock the test moves. */
function storeAt(options: Omit<MemoryPinStoreOptions, 'now'> = {}) {
  const clock = { now: 1_000_000 };
  const store = new MemoryPinStore({ ...options, now: () => clock.now });
  return { store, advance: (ms: number) => (clock.now += ms) };
}

const keysLeft = async (store: MemoryPinStore, keys: string[]) => {
  const left: string[] = [];
  for (const key of keys) if ((await store.get(key)) !== undefined) left.push(key);
  return left;
};

describe('MemoryPinStore', () => {
  it('keeps a token under its key until its TTL passes', async () => {
    const { store, advance } = storeAt();
    await store.set('alice', 'token-a', 15);
    expect(await store.get('alice')).toBe('token-a');
    expect(await store.get('bob')).toBeUndefined();
    advance(14_999);
    expect(await store.get('alice')).toBe('token-a');
    advance(1);
    expect(await store.get('alice')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('deletes, and a key set again replaces its token and TTL', async () => {
    const { store, advance } = storeAt();
    await store.set('alice', 'token-a', 60);
    await store.delete('alice');
    expect(await store.get('alice')).toBeUndefined();
    await store.delete('nobody');
    await store.set('bob', 'old', 5);
    advance(4000);
    await store.set('bob', 'new', 5);
    advance(4000);
    expect(await store.get('bob')).toBe('new');
  });

  it('cannot grow past maxEntries: with no entry expired, the oldest key goes first, and a key set again counts as new', async () => {
    const { store } = storeAt({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) await store.set(key, key, 60);
    await store.set('a', 'a again', 60);
    await store.set('d', 'd', 60);
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('a again');
    for (let i = 0; i < 1000; i++) await store.set(`k${i}`, 't', 60);
    expect(store.size).toBe(3);
  });

  it('drops expired entries before any live one', async () => {
    const { store, advance } = storeAt({ maxEntries: 4 });
    await store.set('old-1', 't', 1);
    await store.set('old-2', 't', 1);
    advance(500);
    await store.set('live-1', 't', 15);
    await store.set('live-2', 't', 15);
    advance(600); // old-1 and old-2 have expired, but are still held
    expect(store.size).toBe(4);
    await store.set('live-3', 't', 15);
    await store.set('live-4', 't', 15);
    expect(store.size).toBe(4);
    expect(await keysLeft(store, ['live-1', 'live-2', 'live-3', 'live-4'])).toEqual(['live-1', 'live-2', 'live-3', 'live-4']);
  });

  it('full, drops an expired entry behind a longer-lived one before the oldest live one', async () => {
    const { store, advance } = storeAt({ maxEntries: 3 });
    await store.set('long', 't', 60);
    await store.set('short', 't', 1);
    await store.set('live', 't', 15);
    advance(1000); // short has expired, behind long, which has not
    await store.set('new', 't', 15);
    expect(await keysLeft(store, ['long', 'short', 'live', 'new'])).toEqual(['long', 'live', 'new']);
    await store.set('newer', 't', 15); // nothing expired: the oldest goes
    expect(await keysLeft(store, ['long', 'live', 'new', 'newer'])).toEqual(['live', 'new', 'newer']);
  });

  it('drops the expired entries at the front as it goes, so they do not pile up below maxEntries', async () => {
    const { store, advance } = storeAt();
    for (let i = 0; i < 100; i++) {
      await store.set(`k${i}`, 't', 1);
      advance(100);
    }
    // Each set dropped those that expired by then: 1 s of entries, 100 ms apart.
    expect(store.size).toBe(10);
  });

  describe('maxEntriesPerSource', () => {
    it.each([
      // [what, sets as [key, source], maxEntriesPerSource, keys left]
      [
        'a source past its bound loses its own oldest key',
        [
          ['a1', 'A'],
          ['a2', 'A'],
          ['b1', 'B'],
          ['a3', 'A'],
        ],
        2,
        ['a2', 'b1', 'a3'],
      ],
      [
        'other sources keep theirs while one mints keys',
        [
          ['b1', 'B'],
          ['c1', 'C'],
          ['x1', 'X'],
          ['x2', 'X'],
          ['x3', 'X'],
          ['x4', 'X'],
        ],
        1,
        ['b1', 'c1', 'x4'],
      ],
      [
        "a key set again is that source's newest",
        [
          ['a1', 'A'],
          ['a2', 'A'],
          ['a1', 'A'],
          ['a3', 'A'],
        ],
        2,
        ['a1', 'a3'],
      ],
      [
        'a key that moves to another source leaves the first',
        [
          ['k', 'A'],
          ['a1', 'A'],
          ['k', 'B'],
          ['a2', 'A'],
        ],
        2,
        ['k', 'a1', 'a2'],
      ],
      [
        'keys set without a source are bounded only by maxEntries',
        [
          ['n1', undefined],
          ['n2', undefined],
          ['n3', undefined],
        ],
        1,
        ['n1', 'n2', 'n3'],
      ],
    ] as [string, [string, string | undefined][], number, string[]][])('%s', async (_what, sets, maxEntriesPerSource, left) => {
      const { store } = storeAt({ maxEntriesPerSource });
      for (const [key, source] of sets) await store.set(key, key, 60, source);
      expect(await keysLeft(store, [...new Set(sets.map(([key]) => key))])).toEqual(left);
      expect(store.size).toBe(left.length);
    });

    it('a deleted or expired key no longer counts against its source', async () => {
      const { store, advance } = storeAt({ maxEntriesPerSource: 2 });
      await store.set('a1', 't', 1, 'A');
      await store.set('a2', 't', 60, 'A');
      await store.delete('a2');
      advance(1000);
      expect(await store.get('a1')).toBeUndefined();
      await store.set('a3', 't', 60, 'A');
      await store.set('a4', 't', 60, 'A');
      expect(await keysLeft(store, ['a3', 'a4'])).toEqual(['a3', 'a4']);
    });

    it('defaults to 1000 per source', async () => {
      const { store } = storeAt();
      for (let i = 0; i < 1005; i++) await store.set(`k${i}`, 't', 60, '203.0.113.7');
      expect(store.size).toBe(1000);
      expect(await store.get('k4')).toBeUndefined();
      expect(await store.get('k5')).toBe('t');
    });
  });

  it.each([
    [{ maxEntries: 0 }, /maxEntries must be a whole number > 0 \(got 0\)/],
    [{ maxEntries: 1.5 }, /maxEntries must be a whole number > 0/],
    [{ maxEntriesPerSource: -1 }, /maxEntriesPerSource must be a whole number > 0/],
    [{ maxEntriesPerSource: '10' }, /maxEntriesPerSource must be a whole number > 0 \(got "10"\)/],
    [{ now: 5 }, /now must be a function/],
    [{ maxKeys: 5 }, /Unknown MemoryPinStore option maxKeys: it has maxEntries, maxEntriesPerSource, now/],
  ])('rejects %p', (options, message) => {
    expect(() => new MemoryPinStore(options as MemoryPinStoreOptions)).toThrow(PinDbConfigError);
    expect(() => new MemoryPinStore(options as MemoryPinStoreOptions)).toThrow(message);
  });
});
