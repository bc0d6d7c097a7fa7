import { GRAPHQL_STACKS, graphqlApp, sharedCluster } from '../support/graphql-app.js';

const env = sharedCluster();

describe.each(GRAPHQL_STACKS)('@Pin, @UseReplica and guards on resolvers ($name)', (stack) => {
  const gql = graphqlApp(stack, env);

  it('@Pin on a resolver method: its query reads the primary', async () => {
    const response = await gql.app.request({ query: '{ pinnedProbe { port pinned } }' });
    expect(response.body.data.pinnedProbe).toEqual({ port: env.cluster.primary.port, pinned: true });
  });

  it('@Pin on a resolver class: its queries read the primary', async () => {
    const response = await gql.app.request({ query: '{ classPinnedProbe { port pinned } }' });
    expect(response.body.data.classPinnedProbe).toEqual({ port: env.cluster.primary.port, pinned: true });
  });

  it("a method's @UseReplica replaces its class's @Pin: a replica", async () => {
    const response = await gql.app.request({ query: '{ methodReplicaInPinnedClass { port pinned } }' });
    expect(env.replicaPorts).toContain(response.body.data.methodReplicaInPinnedClass.port);
    expect(response.body.data.methodReplicaInPinnedClass.pinned).toBe(false);
  });

  it('@UseReplica on a mutation method: the request is pinned, but its reads go to a replica', async () => {
    const response = await gql.app.request({ query: 'mutation { addNoteReadingReplicas(text: "x") { probe { port pinned } } }' });
    expect(response.body.errors).toBeUndefined();
    const { probe } = response.body.data.addNoteReadingReplicas;
    expect(probe.pinned).toBe(true);
    expect(env.replicaPorts).toContain(probe.port);
  });

  it('@UseReplica on a resolver class: its mutation is pinned, its reads go to a replica', async () => {
    const response = await gql.app.request({ query: 'mutation { addNoteInReplicaClass(text: "x") { probe { port pinned } } }' });
    expect(response.body.errors).toBeUndefined();
    const { probe } = response.body.data.addNoteInReplicaClass;
    expect(probe.pinned).toBe(true);
    expect(env.replicaPorts).toContain(probe.port);
  });

  it("a guard that reads the database reads where its resolver's @Pin says: the primary", async () => {
    const response = await gql.app.request({ query: '{ pinnedGuarded { guardPort probe { port } } }' });
    expect(response.body.data.pinnedGuarded).toEqual({ guardPort: env.cluster.primary.port, probe: { port: env.cluster.primary.port } });
  });

  it('the same guard on a resolver without @Pin reads from a replica, in the request context', async () => {
    const response = await gql.app.request({ query: '{ guarded { guardPort probe { port queries } } }' });
    const { guardPort, probe } = response.body.data.guarded;
    expect(env.replicaPorts).toContain(guardPort);
    expect(env.replicaPorts).toContain(probe.port);
    expect(probe.queries).toBe(2); // the guard's read and the resolver's, in one context
  });
});
