import { APP_GUARD } from '@nestjs/core';
import { MemoryPinStore } from '../../lib/index.js';
import { GRAPHQL_STACKS, graphqlApp, sharedCluster } from '../support/graphql-app.js';
import { UserFromHeaderGuard, userKey } from '../support/graphql-user.js';
import { pauseReplicas, resumeReplicas } from '../support/test-cluster.js';
import { tokenOf } from '../support/token-cookies.js';

const SECRET = 'a test secret that is long enough';
const NOTE = 'query Note($id: Int!) { note(id: $id) { text probe { port } } }';

const env = sharedCluster();

describe.each(GRAPHQL_STACKS)("a client's token in the pin store, keyed by the user a guard sets on the GraphQL context's request ($name)", (stack) => {
  const store = new MemoryPinStore();
  const gql = graphqlApp(stack, env, {
    pindb: { cookie: { secret: SECRET }, store, clientKey: userKey },
    providers: [{ provide: APP_GUARD, useClass: UserFromHeaderGuard }],
  });
  beforeEach(() => pauseReplicas(env.cluster));
  afterEach(() => resumeReplicas(env.cluster));

  it("a user's next query, without the cookie, reads the user's write; another user's does not", async () => {
    const added = await gql.app.request({ query: 'mutation { addNote(text: "alice wrote") { id } }' }, { 'x-user': `alice-${stack.driver}` });
    expect(added.body.errors).toBeUndefined();
    const { id } = added.body.data.addNote;

    const alice = await gql.app.request({ query: NOTE, variables: { id } }, { 'x-user': `alice-${stack.driver}` });
    expect(alice.body.data.note).toEqual({ text: 'alice wrote', probe: { port: env.cluster.primary.port } });

    const bob = await gql.app.request({ query: NOTE, variables: { id } }, { 'x-user': `bob-${stack.driver}` });
    expect(bob.body.errors).toBeUndefined();
    expect(bob.body.data.note).toBeNull();
  });

  it('the store keeps the token the response hands out, also when a later resolver of the request wrote after an earlier one had settled', async () => {
    const user = `carol-${stack.driver}`;
    const added = await gql.app.request({ query: 'mutation { a: addNote(text: "first") { id } b: addNote(text: "second") { id } }' }, { 'x-user': user });
    expect(added.body.errors).toBeUndefined();
    expect(added.cookie).toBeDefined();
    expect(await store.get(user)).toBe(tokenOf(added.cookie!));
  });
});
