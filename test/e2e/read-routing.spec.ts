import { NotesService, ProbeController } from '../support/probe.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';

describe.each(PLATFORMS)('read routing (%s)', (platform) => {
  const env = clusterApp(platform, () => ({ controllers: [ProbeController], providers: [NotesService] }));

  it('serves unpinned GET reads from replicas, spread across both', async () => {
    const ports = [];
    for (let i = 0; i < 6; i++) {
      const { status, body } = await env.app.get('/probe/read');
      expect(status).toBe(200);
      expect(body.pinned).toBe(false);
      ports.push(body.port);
    }
    expect(new Set(ports)).toEqual(new Set(env.replicaPorts));
  });

  it("sends repositories' find, findOneBy and count to replicas", async () => {
    const { body } = await env.app.get('/probe/finds');
    expect(body.stats.sets.default.primary).toBe(0);
    expect(body.stats.sets.default.replica).toBe(4);
    expect(Object.keys(body.stats.sets.default.servers).every((server) => env.replicaPorts.includes(Number(server.split(':')[1])))).toBe(true);
  });

  it.each(['post', 'put', 'patch', 'delete'])('pins a %s request from its start: its reads go to the primary', async (method) => {
    const response = await fetch(`${env.app.url}/probe/read`, { method: method.toUpperCase() });
    const body = (await response.json()) as any;
    expect(body.pinned).toBe(true);
    expect(body.port).toBe(env.cluster.primary.port);
    expect(body.stats.sets.default).toMatchObject({ primary: 1, replica: 0 });
  });

  it('greedy: a GET that writes is pinned from its first write, and its later reads go to the primary', async () => {
    const { body } = await env.app.get('/probe/write-then-read');
    expect(body.pinnedBefore).toBe(false);
    expect(body.pinned).toBe(true);
    expect(body.port).toBe(env.cluster.primary.port);
    expect(body.stats.sets.default.replica).toBe(0);
    // The pin ends with the request.
    const next = await env.app.get('/probe/read');
    expect(env.replicaPorts).toContain(next.body.port);
  });

  it('dataSource.query() reads on the primary without pinning', async () => {
    const { body } = await env.app.get('/probe/raw-select');
    expect(body.rawPort).toBe(env.cluster.primary.port);
    expect(body.pinned).toBe(false);
    expect(env.replicaPorts).toContain(body.port);
  });

  it('runs reads inside a transaction on the primary, and the transaction pins', async () => {
    const { body } = await env.app.get('/probe/transaction');
    expect(body.inside).toBe(env.cluster.primary.port);
    expect(body.pinned).toBe(true);
    expect(body.port).toBe(env.cluster.primary.port);
  });
});
