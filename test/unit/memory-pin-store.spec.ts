import { MemoryPinStore } from '../../lib/index.js';

describe('MemoryPinStore', () => {
  it('keeps a token under its key until its TTL passes', async () => {
    const store = new MemoryPinStore();
    await store.set('alice', 'token-a', 0.05);
    expect(await store.get('alice')).toBe('token-a');
    expect(await store.get('bob')).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await store.get('alice')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('deletes', async () => {
    const store = new MemoryPinStore();
    await store.set('alice', 'token-a', 60);
    await store.delete('alice');
    expect(await store.get('alice')).toBeUndefined();
  });

  it('cannot grow past maxEntries: the oldest key goes first, and a key set again counts as new', async () => {
    const store = new MemoryPinStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) await store.set(key, key, 60);
    await store.set('a', 'a again', 60);
    await store.set('d', 'd', 60);
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('a again');
    for (let i = 0; i < 1000; i++) await store.set(`k${i}`, 't', 60);
    expect(store.size).toBe(3);
  });
});
