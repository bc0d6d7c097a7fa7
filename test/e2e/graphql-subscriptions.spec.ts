import { NoteEventFeed } from '../support/graphql-resolvers.js';
import { GRAPHQL_STACKS, graphqlApp, sharedCluster } from '../support/graphql-app.js';
import { until } from '../support/token-cookies.js';

const NOTE_EVENTS = 'subscription { noteEvents { id note { id text probe { port pinned queries } } } }';

const env = sharedCluster();

describe.each(GRAPHQL_STACKS)('GraphQL subscriptions over graphql-ws: each event in a fresh context ($name)', (stack) => {
  const gql = graphqlApp(stack, env);
  let feed: NoteEventFeed;
  beforeAll(() => (feed = gql.app.app.get(NoteEventFeed)));
  // Each test ends its subscriptions: the next one counts its own subscribers.
  afterEach(async () => {
    await gql.app.unsubscribeAll();
    await until(() => feed.subscriberCount === 0);
  });

  it("an event's resolvers share its context (a write in one pins the others); the next event starts afresh", async () => {
    const events = gql.app.subscribe(NOTE_EVENTS);
    const first = events.next();
    await until(() => feed.subscriberCount === 1);

    feed.publish({ id: 1, write: true });
    const written = (await first).value;
    expect(written.errors).toBeUndefined();
    // `note` wrote, so its event's context is pinned: `note.probe` reads the primary, after the write's queries.
    expect(written.data.noteEvents.note.probe).toMatchObject({ port: env.cluster.primary.port, pinned: true });
    expect(written.data.noteEvents.note.probe.queries).toBeGreaterThan(1);

    feed.publish({ id: 2, write: false });
    const read = (await events.next()).value;
    expect(read.errors).toBeUndefined();
    expect(read.data.noteEvents.note).toMatchObject({ id: 2, text: 'not saved' });
    // Nothing of the first event: not pinned, only its own read counted, on a replica.
    expect(read.data.noteEvents.note.probe).toMatchObject({ pinned: false, queries: 1 });
    expect(env.replicaPorts).toContain(read.data.noteEvents.note.probe.port);
  });

  it('two subscribers of one event (one payload object) resolve it each in a context of its own', async () => {
    const writer = gql.app.subscribe(NOTE_EVENTS);
    const reader = gql.app.subscribe('subscription { noteEvents { id probeAfterWrite { port pinned queries } } }');
    const [writerEvent, readerEvent] = [writer.next(), reader.next()];
    await until(() => feed.subscriberCount === 2);
    feed.publish({ id: 3, write: true });
    const [written, read] = [(await writerEvent).value, (await readerEvent).value];
    expect(written.data.noteEvents.note.probe).toMatchObject({ port: env.cluster.primary.port, pinned: true });
    // The reader probed after the writer's write, and saw nothing of it.
    expect(read.data.noteEvents.probeAfterWrite).toMatchObject({ pinned: false, queries: 1 });
    expect(env.replicaPorts).toContain(read.data.noteEvents.probeAfterWrite.port);
  });

  it("@Pin on the subscription pins each of its events' contexts: their reads go to the primary", async () => {
    const events = gql.app.subscribe('subscription { pinnedNoteEvents { id note { probe { port pinned queries } } } }');
    const first = events.next();
    await until(() => feed.subscriberCount === 1);
    feed.publish({ id: 4, write: false });
    const event = (await first).value;
    expect(event.errors).toBeUndefined();
    expect(event.data.pinnedNoteEvents.note.probe).toEqual({ port: env.cluster.primary.port, pinned: true, queries: 1 });
  });
});
