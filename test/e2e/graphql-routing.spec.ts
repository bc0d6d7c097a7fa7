import { GRAPHQL_STACKS, graphqlApp, sharedCluster } from '../support/graphql-app.js';
import { pauseReplicas, resumeReplicas } from '../support/test-cluster.js';

const SECRET = 'a test secret that is long enough';
const PROBE = '{ probe { port pinned queries } }';
const MUTATION_PROBE = 'mutation { mutationProbe { port pinned queries } }';
const ADD_NOTE = 'mutation Add($text: String!) { addNote(text: $text) { id probe { port pinned } } }';
const NOTE = 'query Note($id: Int!) { note(id: $id) { id text probe { port pinned } } }';

const env = sharedCluster();

describe.each(GRAPHQL_STACKS)('GraphQL over HTTP: one request, one context, routed by what it sends ($name)', (stack) => {
  const gql = graphqlApp(stack, env, { pindb: { cookie: { secret: SECRET } } });

  it('a query (a POST) reads from a replica, counts its reads in the request context, and hands out no token', async () => {
    const response = await gql.app.request({ query: PROBE });
    expect(response.status).toBe(200);
    expect(env.replicaPorts).toContain(response.body.data.probe.port);
    expect(response.body.data.probe).toMatchObject({ pinned: false, queries: 1 });
    expect(response.pindbCookies).toEqual([]);
    expect(response.header).toBeNull();
  });

  it('the field resolvers of a query read where their request does: a replica; @Pin on one root field pins the whole request', async () => {
    const added = await gql.app.request({ query: ADD_NOTE, variables: { text: 'replayed' } });
    await env.cluster.waitForReplay();
    const read = await gql.app.request({ query: NOTE, variables: { id: added.body.data.addNote.id } });
    expect(read.body.data.note.text).toBe('replayed');
    expect(env.replicaPorts).toContain(read.body.data.note.probe.port);
    expect(read.pindbCookies).toEqual([]);

    const pinned = await gql.app.request({ query: '{ pinnedProbe { port } probe { port pinned } }' });
    expect(pinned.body.data).toEqual({ pinnedProbe: { port: env.cluster.primary.port }, probe: { port: env.cluster.primary.port, pinned: true } });
  });

  it('a mutation is pinned from its start: its reads before any write go to the primary', async () => {
    const response = await gql.app.request({ query: MUTATION_PROBE });
    expect(response.body.data.mutationProbe).toEqual({ port: env.cluster.primary.port, pinned: true, queries: 1 });
  });

  describe('with replicas that do not replay', () => {
    beforeEach(() => pauseReplicas(env.cluster));
    afterEach(() => resumeReplicas(env.cluster));

    it('a mutation hands out its token once, in the cookie and the header; the next query with either reads the write', async () => {
      const added = await gql.app.request({ query: ADD_NOTE, variables: { text: 'from a mutation' } });
      expect(added.body.errors).toBeUndefined();
      expect(added.body.data.addNote.probe).toEqual({ port: env.cluster.primary.port, pinned: true });
      expect(added.pindbCookies).toHaveLength(1);
      expect(added.header).toMatch(/^[\w-]+\.[\w-]+$/);
      const { id } = added.body.data.addNote;

      const withCookie = await gql.app.request({ query: NOTE, variables: { id } }, { cookie: added.cookie! });
      expect(withCookie.body.data.note).toEqual({ id, text: 'from a mutation', probe: { port: env.cluster.primary.port, pinned: false } });
      expect(withCookie.pindbCookies).toEqual([]); // the same token: not sent again

      const withHeader = await gql.app.request({ query: NOTE, variables: { id } }, { 'x-pindb-token': added.header! });
      expect(withHeader.body.data.note).toMatchObject({ id, probe: { port: env.cluster.primary.port } });

      // Another client reads a replica, which has not replayed the write.
      const theirs = await gql.app.request({ query: NOTE, variables: { id } });
      expect(theirs.body.errors).toBeUndefined();
      expect(theirs.body.data.note).toBeNull();
    });

    it('a mutation of two root fields hands out one token, which covers the write of the second', async () => {
      const added = await gql.app.request({ query: 'mutation { a: addNote(text: "first") { id } b: addNote(text: "second") { id } }' });
      expect(added.body.errors).toBeUndefined();
      expect(added.pindbCookies).toHaveLength(1);
      const read = await gql.app.request({ query: NOTE, variables: { id: added.body.data.b.id } }, { cookie: added.cookie! });
      expect(read.body.data.note).toMatchObject({ text: 'second', probe: { port: env.cluster.primary.port } });
    });
  });
});
