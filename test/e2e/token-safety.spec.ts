import { randomBytes } from 'node:crypto';
import { parseLsn } from '../../lib/tokens/lsn.js';
import { serializeToken } from '../../lib/tokens/pin-token.js';
import { TokenSigner } from '../../lib/tokens/token-signer.js';
import { pauseReplicas, resumeReplicas } from '../support/test-cluster.js';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService } from '../support/probe.js';
import { clusterApp, createTestApp } from '../support/test-app.js';

const OLD = 'the secret we are rotating out';

const NEW = 'the secret we are rotating in';

/** 1000 tokens a client could send: garbage, tampered, wrongly signed, expired, huge, naming unknown sets. */
function badTokens(good: string): string[] {
  const wrong = new TokenSigner(['not our secret']);
  const ours = new TokenSigner([NEW]);
  const far = Date.now() + 60_000;
  const kinds = [
    () => randomBytes(1 + Math.floor(Math.random() * 300)).toString('base64url'),
    () => good.slice(0, Math.floor(Math.random() * good.length)),
    () => wrong.sign(serializeToken(new Map([['default', { lsn: parseLsn('FF/0'), expiresAt: far }]]))),
    () => ours.sign(serializeToken(new Map([['default', { lsn: parseLsn('0/1'), expiresAt: Date.now() - 5_000 }]]))),
    () => ours.sign('x'.repeat(5_000)),
    () => ours.sign(serializeToken(new Map([['no-such-set', { lsn: parseLsn('FF/0'), expiresAt: far }]]))),
    () => ours.sign('{"s":{"default":["not an lsn",9999999999]}}'),
    () => `${good}${randomBytes(4).toString('hex')}`,
    () =>
      randomBytes(64)
        .toString('latin1')
        .replace(/[^\x20-\x7e]/g, 'x'),
    () => '.'.repeat(Math.floor(Math.random() * 50)),
  ];
  return Array.from({ length: 1000 }, (_, i) => kinds[i % kinds.length]());
}

describe('tokens from clients are untrusted', () => {
  const env = clusterApp('express', () => ({ pindb: { cookie: { secret: [NEW, OLD] } }, controllers: [NotesController], providers: [NotesService, NoteJobs] }));

  it('1000 forged, expired, malformed, oversized or unknown-set tokens: every response 2xx, none pins', async () => {
    const created = await fetch(`${env.app.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const good = created.headers.get('x-pindb-token')!;
    const tokens = badTokens(good);
    for (let start = 0; start < tokens.length; start += 50) {
      const batch = tokens.slice(start, start + 50).map(async (token, i) => {
        const asCookie = (start + i) % 2 === 0;
        const headers: Record<string, string> = asCookie ? { cookie: `pindb=${encodeURIComponent(token)}` } : { 'x-pindb-token': token };
        const response = await fetch(`${env.app.url}/notes/probe`, { headers });
        const body = (await response.json()) as any;
        expect(response.status).toBe(200);
        expect(env.replicaPorts).toContain(body.port);
        return body.stats.ignoredTokens as number;
      });
      const ignored = await Promise.all(batch);
      // Counted when rejected outright (an unknown set or an expired entry verifies, and is simply empty).
      expect(ignored.every((n) => n === 0 || n === 1)).toBe(true);
    }
  });

  it('a token signed with the old secret still verifies; new ones are signed with the new secret', async () => {
    // A token an instance still on the old secret handed out; no replica replays it meanwhile.
    const onOldSecret = await createTestApp({
      platform: 'express',
      cluster: env.cluster,
      pindb: { cookie: { secret: OLD } },
      controllers: [NotesController],
      providers: [NotesService, NoteJobs],
    });
    await pauseReplicas(env.cluster);
    try {
      const created = await fetch(`${onOldSecret.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const oldToken = created.headers.get('x-pindb-token')!;
      expect(new TokenSigner([OLD]).verify(oldToken)).toBeDefined();
      const read = (await (await fetch(`${env.app.url}/notes/probe`, { headers: { 'x-pindb-token': oldToken } })).json()) as any;
      expect(read.port).toBe(env.cluster.primary.port);
      expect(read.stats.ignoredTokens).toBe(0);
    } finally {
      await resumeReplicas(env.cluster);
      await onOldSecret.close();
    }
    const fresh = await fetch(`${env.app.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const newToken = fresh.headers.get('x-pindb-token')!;
    expect(new TokenSigner([NEW]).verify(newToken)).toBeDefined();
    expect(new TokenSigner([OLD]).verify(newToken)).toBeUndefined();
  });
});

describe('time mode', () => {
  const env = clusterApp('express', () => ({
    pindb: { consistency: 'time', pinSeconds: 1, cookie: { secret: NEW } },
    controllers: [NotesController],
    providers: [NotesService, NoteJobs],
  }));

  it('pins a client that wrote to the primary for pinSeconds, then reads replicas again', async () => {
    const created = await fetch(`${env.app.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const cookie = created.headers.getSetCookie()[0].split(';')[0];
    expect(created.headers.getSetCookie()[0]).toMatch(/Max-Age=[12];/);
    const pinned = (await (await fetch(`${env.app.url}/notes/probe`, { headers: { cookie } })).json()) as any;
    expect(pinned.port).toBe(env.cluster.primary.port);
    // Expiry is kept to the second: past pinSeconds plus that rounding, the token no longer pins.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const later = (await (await fetch(`${env.app.url}/notes/probe`, { headers: { cookie } })).json()) as any;
    expect(env.replicaPorts).toContain(later.port);
  });
});

describe('store transport (clientKey, no cookie)', () => {
  const env = clusterApp('fastify', () => ({
    pindb: { cookie: false, header: false, clientKey: (req: any) => req.headers['x-user'] },
    controllers: [NotesController],
    providers: [NotesService, NoteJobs],
  }));
  beforeAll(() => env.cluster.waitForReplay());
  // Replicas that do not replay the write: only the token can send alice's read to the primary.
  beforeEach(() => pauseReplicas(env.cluster));
  afterEach(() => resumeReplicas(env.cluster));

  it("keeps a client's token in the store under its key: its next read sees the write, another client's does not pin", async () => {
    const created = await fetch(`${env.app.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'alice' }, body: '{}' });
    expect(created.headers.getSetCookie()).toEqual([]);
    expect(created.headers.get('x-pindb-token')).toBeNull();
    const alice = (await (await fetch(`${env.app.url}/notes/probe`, { headers: { 'x-user': 'alice' } })).json()) as any;
    expect(alice.port).toBe(env.cluster.primary.port);
    const bob = (await (await fetch(`${env.app.url}/notes/probe`, { headers: { 'x-user': 'bob' } })).json()) as any;
    expect(env.replicaPorts).toContain(bob.port);
  });
});
