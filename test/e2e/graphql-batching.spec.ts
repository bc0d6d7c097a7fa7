import { GRAPHQL_STACKS, graphqlApp, sharedCluster } from '../support/graphql-app.js';
import { pauseReplicas, resumeReplicas } from '../support/test-cluster.js';

const SECRET = 'a test secret that is long enough';
const PROBE = { query: '{ probe { port pinned } }' };
const ADD_NOTE = { query: 'mutation Add($text: String!) { addNote(text: $text) { id probe { port pinned } } }', variables: { text: 'from a batch' } };

const env = sharedCluster();

describe.each(GRAPHQL_STACKS)('batched GraphQL requests: one context for the whole batch ($name)', (stack) => {
  const gql = graphqlApp(stack, env, { pindb: { cookie: { secret: SECRET } } });

  it('a batch of queries reads from replicas and hands out no token', async () => {
    const response = await gql.app.request([PROBE, { query: 'query Again { probe { port pinned } }', operationName: 'Again' }]);
    expect(response.status).toBe(200);
    expect(response.body).toHaveLength(2);
    for (const result of response.body) {
      expect(result.errors).toBeUndefined();
      expect(env.replicaPorts).toContain(result.data.probe.port);
      expect(result.data.probe.pinned).toBe(false);
    }
    expect(response.pindbCookies).toEqual([]);
    expect(response.header).toBeNull();
  });

  it('a batch of queries whose document also holds a mutation, not the one it runs, reads from replicas', async () => {
    const response = await gql.app.request([
      PROBE,
      { query: 'query Read { probe { port pinned } } mutation Write { addNote(text: "never") { id } }', operationName: 'Read' },
    ]);
    for (const result of response.body) expect(env.replicaPorts).toContain(result.data.probe.port);
    expect(response.pindbCookies).toEqual([]);
  });

  describe('with replicas that do not replay', () => {
    beforeEach(() => pauseReplicas(env.cluster));
    afterEach(() => resumeReplicas(env.cluster));

    it('a batch with a mutation is pinned for all its operations: the query before it reads the primary; one token for the batch', async () => {
      const response = await gql.app.request([PROBE, ADD_NOTE]);
      expect(response.body).toHaveLength(2);
      const [query, mutation] = response.body;
      expect(query.errors).toBeUndefined();
      expect(mutation.errors).toBeUndefined();
      expect(query.data.probe).toEqual({ port: env.cluster.primary.port, pinned: true });
      expect(mutation.data.addNote.probe).toEqual({ port: env.cluster.primary.port, pinned: true });
      expect(response.pindbCookies).toHaveLength(1);
      expect(response.header).toMatch(/^[\w-]+\.[\w-]+$/);

      const read = await gql.app.request(
        { query: 'query Note($id: Int!) { note(id: $id) { text probe { port } } }', variables: { id: mutation.data.addNote.id } },
        { cookie: response.cookie! },
      );
      expect(read.body.data.note).toEqual({ text: 'from a batch', probe: { port: env.cluster.primary.port } });
    });
  });
});
