import { Controller, Get, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PinDbConfigError, ReplicaScopeWriteError, RoutingService, UseReplica } from '../../lib/index.js';
import { NotesService, readPort } from '../support/probe.js';
import { clusterApp, PLATFORMS, TestApp } from '../support/test-app.js';
import { cookieFrom } from '../support/token-cookies.js';

const SECRET = 'a test secret that is long enough';

/** What an attempt inside the scope ended with: null, or the error's name, set, scope and message. */
async function attempt(work: () => Promise<unknown>): Promise<{ name: string; set?: string; scope?: string; message: string } | null> {
  try {
    await work();
    return null;
  } catch (error) {
    if (error instanceof ReplicaScopeWriteError) return { name: error.name, set: error.set, scope: error.scope, message: error.message };
    return { name: (error as Error).name, message: (error as Error).message };
  }
}

/**
 * GETs, so that no request is pinned by its method: each answer says how its attempts ended,
 * whether the context is pinned afterwards and which server its next read went to.
 */
@Controller('prevent')
class PreventWritesController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
    private readonly notes: NotesService,
  ) {}

  /** A call through the query builder: a read-mode runner, so a replica while the scope reads there. */
  private select(expression: string) {
    return this.dataSource.createQueryBuilder().select(expression, 'value').fromDummy().getRawOne();
  }

  /** An attempt, with the statements it sent to each role. */
  private async counted(work: () => Promise<unknown>) {
    const sent = () => this.routing.stats().sets.default ?? { primary: 0, replica: 0 };
    const before = sent();
    const error = await attempt(work);
    const after = sent();
    return { error, replica: after.replica - before.replica, primary: after.primary - before.primary };
  }

  private async after() {
    return { pinned: this.routing.isPinned(), port: await readPort(this.dataSource) };
  }

  @Get('decorated/write')
  @UseReplica({ preventWrites: true })
  async decoratedWrite(@Query('text') text: string) {
    const error = await attempt(() => this.notes.write(text));
    return { error, ...(await this.after()) };
  }

  @Get('decorated/functions')
  @UseReplica({ preventWrites: true })
  async decoratedFunctions() {
    return {
      nextval: await this.counted(() => this.select("nextval('note_id_seq')")),
      writingFunction: await this.counted(() => this.select('take_note_id()')),
      readingFunction: await this.select('count_notes()').then((row) => Number(row.value)),
      ...(await this.after()),
    };
  }

  @Get('scope/write')
  async scopeWrite(@Query('text') text: string) {
    const inside = await this.routing.useReplica(async () => ({ error: await attempt(() => this.notes.write(text)), port: await readPort(this.dataSource) }), {
      preventWrites: true,
    });
    // After the scope: not pinned by the refused write, so this read goes to a replica too.
    return { ...inside, after: await this.after() };
  }

  @Get('scope/functions')
  async scopeFunctions() {
    const inside = await this.routing.useReplica(
      async () => ({
        nextval: await this.counted(() => this.select("nextval('note_id_seq')")),
        // Refused by the replica (25006): not run on the primary instead.
        writingFunction: await this.counted(() => this.select('take_note_id()')),
        // dataSource.query() runs on the primary: a call that may write is refused before it is sent.
        rawWritingFunction: await this.counted(() => this.dataSource.query('SELECT take_note_id()')),
        readingFunction: await this.select('count_notes()').then((row) => Number(row.value)),
      }),
      { preventWrites: true },
    );
    return { ...inside, after: await this.after() };
  }

  @Get('scope/transaction')
  async scopeTransaction() {
    const inside = await this.routing.useReplica(
      async () => ({
        // A TypeORM transaction runs on the primary: refused at its START TRANSACTION.
        typeorm: await this.counted(() => this.dataSource.transaction((manager) => readPort(manager))),
        // A READ ONLY transaction on a replica is what the scope allows.
        replicaTransaction: await this.routing.replicaTransaction((manager) => readPort(manager)),
      }),
      { preventWrites: true },
    );
    return { ...inside, ...(await this.after()) };
  }

  /** The fix the error names: usePrimary inside the scope (the innermost scope decides). */
  @Get('scope/use-primary')
  async scopeUsePrimary(@Query('text') text: string) {
    const error = await this.routing.useReplica(() => attempt(() => this.routing.usePrimary(() => this.notes.write(text))), { preventWrites: true });
    return { error, pinned: this.routing.isPinned() };
  }
}

describe.each(PLATFORMS)('preventWrites on @UseReplica and routing.useReplica (%s)', (platform) => {
  const env = clusterApp(platform, () => ({ pindb: { cookie: { secret: SECRET } }, controllers: [PreventWritesController], providers: [NotesService] }));
  beforeAll(async () => {
    // A function the classifier cannot know writes (it takes a sequence value), and one that only reads.
    await env.cluster.query('primary', "CREATE FUNCTION take_note_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$ SELECT nextval('note_id_seq') $$");
    await env.cluster.query('primary', 'CREATE FUNCTION count_notes() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM note $$');
    await env.cluster.waitForReplay();
  });

  const get = async (app: TestApp, path: string) => {
    const response = await fetch(app.url + path);
    return { status: response.status, body: (await response.json()) as any, cookie: cookieFrom(response) };
  };
  const notesOnPrimary = async (text: string) =>
    (await env.cluster.query<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM note WHERE text = $1', [text]))[0].n;
  const sequenceOnPrimary = async () => (await env.cluster.query<{ value: string }>('primary', 'SELECT last_value::text AS value FROM note_id_seq'))[0].value;

  it.each([
    ['@UseReplica({ preventWrites: true })', '/prevent/decorated/write', '@UseReplica'],
    ['routing.useReplica(fn, { preventWrites: true })', '/prevent/scope/write', 'routing.useReplica'],
  ])('%s: a write throws ReplicaScopeWriteError, nothing is written, the set is not pinned and no token is handed out', async (_form, path, scope) => {
    const text = `prevented ${scope} ${platform}`;
    const { status, body, cookie } = await get(env.app, `${path}?text=${encodeURIComponent(text)}`);
    expect(status).toBe(200);
    expect(body.error).toMatchObject({ name: 'ReplicaScopeWriteError', set: 'default', scope });
    expect(body.error.message).toMatch(/Move the write out of the scope .* or drop preventWrites/);
    expect(await notesOnPrimary(text)).toBe(0);
    const after = body.after ?? body;
    expect(after.pinned).toBe(false);
    expect(env.replicaPorts).toContain(after.port);
    expect(cookie).toBeUndefined();
  });

  it.each([
    ['@UseReplica({ preventWrites: true })', '/prevent/decorated/functions', '@UseReplica'],
    ['routing.useReplica(fn, { preventWrites: true })', '/prevent/scope/functions', 'routing.useReplica'],
  ])(
    '%s: nextval() and a function that writes end as ReplicaScopeWriteError, never run on the primary; a function that reads runs on a replica',
    async (_form, path, scope) => {
      const before = await sequenceOnPrimary();
      const { body } = await get(env.app, path);
      // nextval() is known to write: refused before it is sent.
      expect(body.nextval).toEqual({ error: expect.objectContaining({ name: 'ReplicaScopeWriteError', scope }), replica: 0, primary: 0 });
      // A function the classifier does not know: sent to a replica, which refuses it (25006); not sent again to the primary.
      expect(body.writingFunction).toEqual({ error: expect.objectContaining({ name: 'ReplicaScopeWriteError', scope }), replica: 1, primary: 0 });
      if (scope === 'routing.useReplica') {
        // On the primary (dataSource.query()), nothing would refuse it: refused before it is sent.
        expect(body.rawWritingFunction).toEqual({ error: expect.objectContaining({ name: 'ReplicaScopeWriteError', scope }), replica: 0, primary: 0 });
      }
      expect(typeof body.readingFunction).toBe('number');
      expect(await sequenceOnPrimary()).toBe(before);
      const after = body.after ?? body;
      expect(after.pinned).toBe(false);
      expect(env.replicaPorts).toContain(after.port);
    },
  );

  it('inside routing.useReplica(fn, { preventWrites: true }), a TypeORM transaction is refused before START TRANSACTION is sent; routing.replicaTransaction() runs on a replica', async () => {
    const { body } = await get(env.app, '/prevent/scope/transaction');
    expect(body.typeorm).toEqual({ error: expect.objectContaining({ name: 'ReplicaScopeWriteError', scope: 'routing.useReplica' }), replica: 0, primary: 0 });
    expect(env.replicaPorts).toContain(body.replicaTransaction);
    expect(body.pinned).toBe(false);
    expect(env.replicaPorts).toContain(body.port);
  });

  it.each<[string, unknown, RegExp]>([
    ['a preventWrites that is not a boolean', { preventWrites: 'yes' }, /preventWrites must be true or false \(got "yes"\)/],
    ['a negative maxLagMs', { maxLagMs: -1 }, /maxLagMs must be a number of milliseconds ≥ 0/],
    ['a set PinDbModule does not define', { sets: ['reprots'], preventWrites: true }, /No database set "reprots": the sets are default/],
  ])('routing.useReplica(fn, options) with %s throws PinDbConfigError before fn runs', (_what, options, message) => {
    const routing = env.app.app.get(RoutingService);
    let ran = false;
    const open = () => routing.useReplica(() => (ran = true), options as { preventWrites?: boolean });
    expect(open).toThrow(PinDbConfigError);
    expect(open).toThrow(message);
    expect(ran).toBe(false);
  });

  it('usePrimary inside the scope lets the write through (the innermost scope decides), and it pins as any write', async () => {
    const text = `through usePrimary ${platform}`;
    const { body } = await get(env.app, `/prevent/scope/use-primary?text=${encodeURIComponent(text)}`);
    expect(body).toEqual({ error: null, pinned: true });
    expect(await notesOnPrimary(text)).toBe(1);
  });
});
