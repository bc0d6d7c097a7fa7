import { ConflictException, Injectable } from '@nestjs/common';
import { Propagation, Transactional, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsService } from 'nestjs-cls';
import { PinningContext, RoutingService } from '../../lib/index.js';
import { REQUEST_ID } from './cls-app.js';
import { Note } from './entities.js';

/** Where a read through `txHost.tx` ran: the server, its backend process, and what nestjs-cls said then. */
export interface Where {
  port: number;
  pid: number;
  /** nestjs-cls's own view: a transaction is active for the `default` connection. */
  transaction: boolean;
  /** The request's nestjs-cls value, as the code inside sees it. */
  requestId: string | null;
}

/** The propagation modes of @nestjs-cls/transactional, as the test endpoints name them. */
export const PROPAGATIONS = {
  required: Propagation.Required,
  'requires-new': Propagation.RequiresNew,
  nested: Propagation.Nested,
  'not-supported': Propagation.NotSupported,
  never: Propagation.Never,
  mandatory: Propagation.Mandatory,
  supports: Propagation.Supports,
} as const;
export type Mode = keyof typeof PROPAGATIONS;

/** What an inner @Transactional method saw, or the name of the error it threw (its own, or the library's refusal). */
export interface InnerOutcome {
  where?: Where;
  error?: string;
}

/** The app's own failure inside a transaction, after its insert. */
export class InnerFailure extends Error {
  override readonly name = 'InnerFailure';
}

/** Lets a test hold a request inside its transaction until the test lets it go. */
@Injectable()
export class ClsGate {
  private readonly gates = new Map<string, { waiting: boolean; open: () => void; opened: Promise<void> }>();

  private gate(key: string) {
    let gate = this.gates.get(key);
    if (!gate) {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { waiting: false, open, opened };
      this.gates.set(key, gate);
    }
    return gate;
  }

  wait(key: string): Promise<void> {
    const gate = this.gate(key);
    gate.waiting = true;
    return gate.opened;
  }

  isWaiting(key: string): boolean {
    return this.gates.get(key)?.waiting ?? false;
  }

  open(key: string): void {
    this.gate(key).open();
  }
}

/** Notes written and read through TransactionHost<TransactionalAdapterTypeOrm>.tx, as a nestjs-cls user writes them. */
@Injectable()
export class ClsNotesService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly cls: ClsService,
    private readonly gate: ClsGate,
  ) {}

  /** A read built by TypeORM's query builder on `txHost.tx`: the transaction's connection inside one, the DataSource's routing outside. */
  async where(): Promise<Where> {
    const row = await this.txHost.tx
      .createQueryBuilder()
      .select('inet_server_port()', 'port')
      .addSelect('pg_backend_pid()', 'pid')
      .fromDummy()
      .getRawOne<{ port: number; pid: number }>();
    return {
      port: Number(row!.port),
      pid: Number(row!.pid),
      transaction: this.txHost.isTransactionActive(),
      requestId: this.cls.isActive() ? (this.cls.get<string>(REQUEST_ID) ?? null) : null,
    };
  }

  async insert(text: string): Promise<void> {
    await this.txHost.tx.getRepository(Note).insert({ text });
  }

  count(text: string): Promise<number> {
    return this.txHost.tx.getRepository(Note).countBy({ text });
  }

  /** Reads, writes, reads its own write, reads again: all in one transaction. With `gate`, waits inside it until the test opens it. */
  @Transactional()
  async create(text: string, gate?: string): Promise<{ before: Where; after: Where; seen: number }> {
    const before = await this.where();
    await this.insert(text);
    if (gate) await this.gate.wait(gate);
    const seen = await this.count(text);
    return { before, after: await this.where(), seen };
  }

  /** A transaction that only reads. */
  @Transactional()
  readInTransaction(): Promise<Where> {
    return this.where();
  }

  @Transactional<TransactionalAdapterTypeOrm>({ isolationLevel: 'SERIALIZABLE' })
  async serializable(): Promise<{ where: Where; isolation: string }> {
    const [row] = await this.txHost.tx.query(`SELECT current_setting('transaction_isolation') AS isolation`);
    return { where: await this.where(), isolation: row.isolation };
  }

  /** Writes, then fails as the app would: the transaction rolls back and the app's error goes on. */
  @Transactional()
  async createThenFail(text: string): Promise<never> {
    await this.insert(text);
    throw new ConflictException(`${text}: refused by the app`);
  }

  /**
   * An outer transaction that writes `text:outer`, calls an inner method of the given propagation
   * (which writes `text:inner`, and with `failInner` then throws), catches what it throws, and with
   * `failOuter` throws itself (a ConflictException whose body carries what both saw).
   */
  @Transactional()
  async outer(text: string, mode: Mode, failInner: boolean, failOuter: boolean): Promise<{ outer: Where; inner: InnerOutcome; outerAfter: Where }> {
    const outer = await this.where();
    await this.insert(`${text}:outer`);
    let inner: InnerOutcome;
    try {
      // A refusal by the library (Never, Mandatory) is thrown, not returned as a rejected promise.
      inner = { where: await this.inner(mode, text, failInner) };
    } catch (error) {
      inner = { error: (error as Error).name };
    }
    const result = { outer, inner, outerAfter: await this.where() };
    if (failOuter) throw new ConflictException({ message: `${text}: outer refused by the app`, ...result });
    return result;
  }

  /** The inner method of `mode`, called on its own or from `outer`. */
  inner(mode: Mode, text: string, fail: boolean): Promise<Where> {
    switch (mode) {
      case 'required':
        return this.innerRequired(text, fail);
      case 'requires-new':
        return this.innerRequiresNew(text, fail);
      case 'nested':
        return this.innerNested(text, fail);
      case 'not-supported':
        return this.innerNotSupported(text, fail);
      case 'never':
        return this.innerNever(text, fail);
      case 'mandatory':
        return this.innerMandatory(text, fail);
      case 'supports':
        return this.innerSupports(text, fail);
    }
  }

  @Transactional(Propagation.Required)
  innerRequired(text: string, fail: boolean): Promise<Where> {
    return this.innerWork(text, fail);
  }

  @Transactional(Propagation.RequiresNew)
  innerRequiresNew(text: string, fail: boolean): Promise<Where> {
    return this.innerWork(text, fail);
  }

  @Transactional(Propagation.Nested)
  innerNested(text: string, fail: boolean): Promise<Where> {
    return this.innerWork(text, fail);
  }

  @Transactional(Propagation.NotSupported)
  innerNotSupported(text: string, fail: boolean): Promise<Where> {
    return this.innerWork(text, fail);
  }

  @Transactional(Propagation.Never)
  innerNever(text: string, fail: boolean): Promise<Where> {
    return this.innerWork(text, fail);
  }

  @Transactional(Propagation.Mandatory)
  innerMandatory(text: string, fail: boolean): Promise<Where> {
    return this.innerWork(text, fail);
  }

  @Transactional(Propagation.Supports)
  innerSupports(text: string, fail: boolean): Promise<Where> {
    return this.innerWork(text, fail);
  }

  /** Where it runs, then its write, then the app's failure if asked for. */
  private async innerWork(text: string, fail: boolean): Promise<Where> {
    const where = await this.where();
    await this.insert(`${text}:inner`);
    if (fail) throw new InnerFailure(`${text}: inner refused by the app`);
    return where;
  }
}

/** Work outside HTTP: a job method with its own pinning context around its transaction. */
@Injectable()
export class ClsJobs {
  constructor(
    private readonly notes: ClsNotesService,
    private readonly routing: RoutingService,
  ) {}

  /** @PinningContext outermost: the context opens first, so the transaction's statements are in it. */
  @PinningContext()
  @Transactional()
  async nightly(text: string): Promise<{ inside: Where; pinnedInside: boolean }> {
    await this.notes.insert(text);
    return { inside: await this.notes.where(), pinnedInside: this.routing.isPinned() };
  }
}
