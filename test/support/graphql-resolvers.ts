import { CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { Args, Context, Field, GqlExecutionContext, Int, Mutation, ObjectType, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Pin, RoutingService, UseReplica } from '../../lib/index.js';
import { NotesService, readPort } from './probe.js';

/** Where a resolver's read went, and what its context looked like then. */
@ObjectType('Probe')
export class Probe {
  @Field(() => Int)
  port!: number;
  @Field()
  pinned!: boolean;
  /** routing.stats().queries: the context's queries so far. */
  @Field(() => Int)
  queries!: number;
}

@ObjectType('Note')
export class NoteView {
  @Field(() => Int)
  id!: number;
  @Field()
  text!: string;
}

/** What a guard read before the resolver, and what the resolver read. */
@ObjectType('Guarded')
export class Guarded {
  @Field(() => Int)
  guardPort!: number;
  @Field(() => Probe)
  probe!: Probe;
}

/** A subscription event: `write` asks its `note` resolver to write the note (which pins the event's context). */
@ObjectType('NoteEvent')
export class NoteEvent {
  @Field(() => Int)
  id!: number;
  @Field()
  write!: boolean;
}

/** The same schema, for the schema-first apps: what the code-first apps generate from the classes above. */
export const TYPE_DEFS = /* GraphQL */ `
  type Probe {
    port: Int!
    pinned: Boolean!
    queries: Int!
  }
  type Note {
    id: Int!
    text: String!
    probe: Probe!
  }
  type Guarded {
    guardPort: Int!
    probe: Probe!
  }
  type NoteEvent {
    id: Int!
    write: Boolean!
    note: Note!
    probeAfterWrite: Probe!
  }
  type Query {
    probe: Probe!
    note(id: Int!): Note
    pinnedProbe: Probe!
    classPinnedProbe: Probe!
    methodReplicaInPinnedClass: Probe!
    guarded: Guarded!
    pinnedGuarded: Guarded!
  }
  type Mutation {
    mutationProbe: Probe!
    addNote(text: String!): Note!
    addNoteReadingReplicas(text: String!): Note!
    addNoteInReplicaClass(text: String!): Note!
  }
  type Subscription {
    noteEvents: NoteEvent!
    pinnedNoteEvents: NoteEvent!
  }
`;

/** The routing of the current context, as a Probe: reads the server's port through TypeORM's query builder (a routed read). */
@Injectable()
export class Prober {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
  ) {}

  async probe(): Promise<Probe> {
    const port = await readPort(this.dataSource);
    return { port, pinned: this.routing.isPinned(), queries: this.routing.stats().queries };
  }
}

/** Queries and mutations on notes; `Note.probe` says where a field resolver's read went. */
@Resolver(() => NoteView)
export class NotesResolver {
  constructor(
    private readonly notes: NotesService,
    private readonly prober: Prober,
  ) {}

  @Query(() => Probe)
  probe(): Promise<Probe> {
    return this.prober.probe();
  }

  @Query(() => NoteView, { nullable: true })
  note(@Args('id', { type: () => Int }) id: number): Promise<NoteView | null> {
    return this.notes.notes.findOneBy({ id });
  }

  @Query(() => Probe)
  @Pin()
  pinnedProbe(): Promise<Probe> {
    return this.prober.probe();
  }

  /** A mutation's read before it writes (a check, a lookup). */
  @Mutation(() => Probe)
  mutationProbe(): Promise<Probe> {
    return this.prober.probe();
  }

  @Mutation(() => NoteView)
  addNote(@Args('text') text: string): Promise<NoteView> {
    return this.notes.write(text);
  }

  /** Its reads (the note's probe) go to replicas, although the mutation pins the request. */
  @Mutation(() => NoteView)
  @UseReplica()
  addNoteReadingReplicas(@Args('text') text: string): Promise<NoteView> {
    return this.notes.write(text);
  }

  @ResolveField('probe', () => Probe)
  noteProbe(@Parent() _note: NoteView): Promise<Probe> {
    return this.prober.probe();
  }
}

@Resolver()
@Pin()
export class PinnedResolver {
  constructor(private readonly prober: Prober) {}

  @Query(() => Probe)
  classPinnedProbe(): Promise<Probe> {
    return this.prober.probe();
  }

  /** A method's decorator replaces its class's. */
  @Query(() => Probe)
  @UseReplica()
  methodReplicaInPinnedClass(): Promise<Probe> {
    return this.prober.probe();
  }
}

@Resolver()
@UseReplica()
export class ReplicaResolver {
  constructor(private readonly notes: NotesService) {}

  @Mutation(() => NoteView)
  addNoteInReplicaClass(@Args('text') text: string): Promise<NoteView> {
    return this.notes.write(text);
  }
}

/** The GraphQL context as the guards below leave it. */
export interface GuardedContext {
  guardPort?: number;
}

/** A guard that reads the database before its resolver, as one that loads the user would: which server answered goes into the GraphQL context. */
@Injectable()
export class LoadUserGuard implements CanActivate {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const context = GqlExecutionContext.create(execution).getContext<GuardedContext>();
    context.guardPort = await readPort(this.dataSource);
    return true;
  }
}

@Resolver()
export class GuardedResolver {
  constructor(private readonly prober: Prober) {}

  @Query(() => Guarded)
  @UseGuards(LoadUserGuard)
  async guarded(@Context() context: GuardedContext): Promise<Guarded> {
    return { guardPort: context.guardPort!, probe: await this.prober.probe() };
  }

  @Query(() => Guarded)
  @UseGuards(LoadUserGuard)
  @Pin()
  async pinnedGuarded(@Context() context: GuardedContext): Promise<Guarded> {
    return { guardPort: context.guardPort!, probe: await this.prober.probe() };
  }
}

/** A subscription event's payload, as graphql-js resolves it: the subscription field's value under its name. */
export interface NoteEventPayload {
  noteEvents: NoteEvent;
}

/**
 * An in-process event source for the subscription (what a PubSub is): each subscriber has its own
 * queue; every subscriber gets the same payload object, as with a real PubSub.
 */
@Injectable()
export class NoteEventFeed {
  private readonly subscribers = new Set<(payload: NoteEventPayload) => void>();
  private readonly writes = new Map<number, { done: Promise<void>; resolve: () => void }>();

  /** Settles once some subscriber's resolver has written the note of event `id`. */
  written(id: number): Promise<void> {
    return this.writeOf(id).done;
  }

  wrote(id: number): void {
    this.writeOf(id).resolve();
  }

  private writeOf(id: number) {
    let write = this.writes.get(id);
    if (!write) {
      let resolve!: () => void;
      const done = new Promise<void>((settle) => (resolve = settle));
      this.writes.set(id, (write = { done, resolve }));
    }
    return write;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  publish(event: NoteEvent): void {
    const payload = { noteEvents: event };
    for (const push of this.subscribers) push(payload);
  }

  subscribe(): AsyncIterableIterator<NoteEventPayload> {
    const queue: NoteEventPayload[] = [];
    let wake: (() => void) | undefined;
    let closed = false;
    const push = (payload: NoteEventPayload) => {
      queue.push(payload);
      wake?.();
    };
    this.subscribers.add(push);
    const subscribers = this.subscribers;
    const events: AsyncIterableIterator<NoteEventPayload> = {
      async next() {
        while (queue.length === 0 && !closed) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        return closed ? { done: true, value: undefined } : { done: false, value: queue.shift()! };
      },
      async return() {
        closed = true;
        subscribers.delete(push);
        wake?.();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return events;
      },
    };
    return events;
  }
}

@Resolver(() => NoteEvent)
export class NoteEventsResolver {
  constructor(
    private readonly feed: NoteEventFeed,
    private readonly notes: NotesService,
    private readonly prober: Prober,
  ) {}

  @Subscription(() => NoteEvent)
  noteEvents(): AsyncIterableIterator<NoteEventPayload> {
    return this.feed.subscribe();
  }

  /** @Pin on a subscription: each of its events reads from the primary. */
  @Subscription(() => NoteEvent, { resolve: (payload: NoteEventPayload) => payload.noteEvents })
  @Pin()
  pinnedNoteEvents(): AsyncIterableIterator<NoteEventPayload> {
    return this.feed.subscribe();
  }

  /** Writes the note when the event asks (a write pins the context it runs in), else makes one up without reading. */
  @ResolveField('note', () => NoteView)
  async note(@Parent() event: NoteEvent): Promise<NoteView> {
    if (!event.write) return { id: event.id, text: 'not saved' };
    const note = await this.notes.write(`event ${event.id}`);
    this.feed.wrote(event.id);
    return note;
  }

  /** Probes once a subscriber has written the event's note: in a context of its own, it sees nothing of that write. */
  @ResolveField('probeAfterWrite', () => Probe)
  async probeAfterWrite(@Parent() event: NoteEvent): Promise<Probe> {
    await this.feed.written(event.id);
    return this.prober.probe();
  }
}

/** Every resolver and provider above, for an app over them. */
export const GRAPHQL_PROVIDERS = [
  Prober,
  NotesService,
  NoteEventFeed,
  NotesResolver,
  PinnedResolver,
  ReplicaResolver,
  GuardedResolver,
  LoadUserGuard,
  NoteEventsResolver,
];
