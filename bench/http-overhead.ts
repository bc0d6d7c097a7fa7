// Requests per second of one GET route that reads one row through a repository, the same app with
// PinDb and with plain TypeORM `replication` (what users compare), on Express and on Fastify, and
// of one GraphQL query (Apollo on Express) reading the same row. Secondary lines: PinDb with
// `enabled: false`, what each piece of PinDb's HTTP machinery costs on a plain app, and a
// request-scoped routing chain (what people build without ALS) against PinDb's singletons.
//
// Run: npm run bench:http-overhead     (goal: PinDb / plain TypeORM replication ≥ 0.95 on Node 24+, ≥ 0.85 on Node 20)
// Env: ROUNDS (default 6), DURATION seconds per round (default 5), CONNECTIONS (default 50),
//      VARIANTS (comma-separated subset of the variants below; default all),
//      ROUTE=ping (every variant loads GET /ping, which reads nothing: the HTTP machinery alone)
//
// Each app runs in its own child process on 127.0.0.1 (bench/worker.ts); the parent loads them one
// at a time with autocannon. Every comparison (PAIRS) is a pair of loads back to back, once per
// round, so each ratio compares two neighbouring windows; the median over rounds is printed.
// Besides req/s (shared with autocannon, Postgres and whatever else runs on the machine), it
// reports the app process's own CPU time per request (process.cpuUsage), the steadier figure.
import {
  CallHandler,
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Inject,
  Injectable,
  Module,
  NestInterceptor,
  NestModule,
  Param,
  ParseIntPipe,
  Res,
  Scope,
  Type,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, HttpAdapterHost, NestFactory, REQUEST } from '@nestjs/core';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { Args, GraphQLModule, Int, Query, Resolver } from '@nestjs/graphql';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { InjectDataSource, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import autocannon from 'autocannon';
import { AsyncLocalStorage } from 'node:async_hooks';
import { cpus, loadavg } from 'node:os';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Observable } from 'rxjs';
import { DataSource, Repository } from 'typeorm';
import { BenchItem, nthId } from './bench-item.js';
import { ClusterInfo, runBench, startBenchCluster } from './cluster-check.js';
import { median, pad, roundOrder } from './stats.js';
import { BenchWorker, serveBenchWorker } from './worker.js';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const PING = process.env.ROUTE === 'ping';
const DURATION = Number(process.env.DURATION ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const WARMUP_SECONDS = 3;
const SELF = fileURLToPath(import.meta.url);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

const VARIANTS = [
  'pindb',
  'plain',
  'pindb-fastify',
  'plain-fastify',
  'pindb-graphql',
  'plain-graphql',
  'pindb-disabled',
  'plain-primary',
  'plain-als',
  'plain-guard',
  'plain-interceptor',
  'request-scoped',
  'singleton-chain',
  'pindb-baseline',
  'pindb-fastify-baseline',
  'pindb-graphql-baseline',
] as const;
type Variant = (typeof VARIANTS)[number];

/** The comparisons: [a, b, what a / b shows]; the headline, what users compare, is "the goal". */
const PAIRS: [Variant, Variant, string][] = [
  ['pindb', 'plain', 'the goal, REST on Express'],
  ['pindb-fastify', 'plain-fastify', 'the goal, REST on Fastify'],
  ['pindb-graphql', 'plain-graphql', 'the goal, GraphQL (Apollo on Express)'],
  ['pindb', 'pindb-disabled', 'routing on vs off'],
  ['plain', 'plain-primary', 'without PinDb: 2 replicas vs the primary'],
  ['singleton-chain', 'request-scoped', 'ALS singletons vs a Scope.REQUEST chain'],
  ['pindb-disabled', 'plain-primary', "PinDb's machinery with routing off: both read the primary only"],
  ['plain-als', 'plain', 'what an ALS.run() middleware costs a plain app'],
  ['plain-guard', 'plain', 'what a no-op global guard costs a plain app'],
  ['plain-interceptor', 'plain', 'what a no-op global interceptor costs a plain app'],
  ['pindb-baseline', 'plain', 'the goal, REST on Express, for PINDB_BASELINE'],
  ['pindb-fastify-baseline', 'plain-fastify', 'the goal, REST on Fastify, for PINDB_BASELINE'],
  ['pindb-graphql-baseline', 'plain-graphql', 'the goal, GraphQL, for PINDB_BASELINE'],
  ['pindb', 'pindb-baseline', 'this tree against PINDB_BASELINE, Express'],
  ['pindb-fastify', 'pindb-fastify-baseline', 'this tree against PINDB_BASELINE, Fastify'],
  ['pindb-graphql', 'pindb-graphql-baseline', 'this tree against PINDB_BASELINE, GraphQL'],
];
/** PINDB_BASELINE=dir: another checkout of nestjs-pindb (sharing this one's node_modules), measured beside this tree's code. */
const BASELINE = process.env.PINDB_BASELINE;

const LABELS: Record<Variant, string> = {
  pindb: 'PinDb, Express',
  plain: 'no PinDb: TypeORM replication, Express',
  'pindb-fastify': 'PinDb, Fastify',
  'plain-fastify': 'no PinDb: TypeORM replication, Fastify',
  'pindb-graphql': 'PinDb, GraphQL (Apollo, Express)',
  'plain-graphql': 'no PinDb: replication, GraphQL (Apollo)',
  'pindb-disabled': 'PinDb enabled: false, Express',
  'plain-primary': 'no PinDb: the primary only, Express',
  'plain-als': 'no PinDb + ALS.run() middleware',
  'plain-guard': 'no PinDb + no-op global guard',
  'plain-interceptor': 'no PinDb + no-op global interceptor',
  'request-scoped': 'Scope.REQUEST chain, no PinDb',
  'singleton-chain': 'singleton chain + RoutingService',
  'pindb-baseline': 'PinDb of PINDB_BASELINE, Express',
  'pindb-fastify-baseline': 'PinDb of PINDB_BASELINE, Fastify',
  'pindb-graphql-baseline': 'PinDb of PINDB_BASELINE, GraphQL',
};

const platformOf = (variant: Variant): 'express' | 'fastify' => (variant.includes('-fastify') ? 'fastify' : 'express');
const isGraphql = (variant: Variant): boolean => variant.includes('-graphql');

// ---------------------------------------------------------------- the apps (child processes)

/** GET /items/:id straight through an injected repository. */
@Controller()
class ItemsController {
  constructor(@InjectRepository(BenchItem) private readonly items: Repository<BenchItem>) {}

  @Get('items/:id')
  item(@Param('id', ParseIntPipe) id: number): Promise<BenchItem | null> {
    return this.items.findOneBy({ id });
  }

  @Get('where')
  async where(): Promise<{ port: number }> {
    const row = await this.items.createQueryBuilder().select('inet_server_port()', 'port').getRawOne();
    return { port: Number(row.port) };
  }

  /** No database: what a request costs without its read. */
  @Get('ping')
  ping(): { ok: true } {
    return { ok: true };
  }
}

/** The same read as a GraphQL query (schema-first: BenchItem is a TypeORM entity, not a GraphQL type). */
@Resolver()
class ItemsResolver {
  constructor(@InjectRepository(BenchItem) private readonly items: Repository<BenchItem>) {}

  @Query('item')
  item(@Args('id', { type: () => Int }) id: number): Promise<BenchItem | null> {
    return this.items.findOneBy({ id });
  }
}

const graphqlModule = () =>
  GraphQLModule.forRoot<ApolloDriverConfig>({
    driver: ApolloDriver,
    typeDefs: 'type Item { id: Int!, name: String!, price: Int! } type Query { item(id: Int!): Item }',
    graphiql: false,
  });
const GRAPHQL_QUERY = 'query Item($id: Int!) { item(id: $id) { id name price } }';

/** How routing is done without AsyncLocalStorage: per-request state in a request-scoped provider. */
@Injectable({ scope: Scope.REQUEST })
class RequestRoutedItems {
  private readonly pinned: boolean;

  constructor(
    @Inject(REQUEST) request: { method: string; headers: Record<string, unknown> },
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.pinned = !SAFE_METHODS.has(request.method) || request.headers['x-pin'] !== undefined;
  }

  target(): 'primary' | 'replica' {
    return this.pinned ? 'primary' : 'replica';
  }

  findOneBy(where: Partial<BenchItem>): Promise<BenchItem | null> {
    return this.withRunner((runner) => runner.manager.getRepository(BenchItem).findOneBy(where));
  }

  port(): Promise<number> {
    return this.withRunner(async (runner) => {
      const row = await runner.manager.getRepository(BenchItem).createQueryBuilder().select('inet_server_port()', 'port').getRawOne();
      return Number(row.port);
    });
  }

  private async withRunner<T>(fn: (runner: ReturnType<DataSource['createQueryRunner']>) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner(this.pinned ? 'master' : 'slave');
    try {
      return await fn(runner);
    } finally {
      await runner.release();
    }
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedItemService {
  constructor(private readonly items: RequestRoutedItems) {}

  find(id: number): Promise<BenchItem | null> {
    return this.items.findOneBy({ id });
  }

  where(): string {
    return this.items.target();
  }

  port(): Promise<number> {
    return this.items.port();
  }
}

/** Same chain, but singletons: the routing state is the context's, read through RoutingService. */
async function singletonChain() {
  const { RoutingService } = await import('../lib/index.js');

  @Injectable()
  class RoutedItems {
    constructor(
      @InjectRepository(BenchItem) private readonly repository: Repository<BenchItem>,
      @Inject(RoutingService) private readonly routing: InstanceType<typeof RoutingService>,
    ) {}

    target(): 'primary' | 'replica' {
      return this.routing.target();
    }

    findOneBy(where: Partial<BenchItem>): Promise<BenchItem | null> {
      return this.repository.findOneBy(where);
    }

    async port(): Promise<number> {
      const row = await this.repository.createQueryBuilder().select('inet_server_port()', 'port').getRawOne();
      return Number(row.port);
    }
  }

  @Injectable()
  class ItemService {
    constructor(@Inject(RoutedItems) private readonly items: RoutedItems) {}

    find(id: number): Promise<BenchItem | null> {
      return this.items.findOneBy({ id });
    }

    where(): string {
      return this.items.target();
    }

    port(): Promise<number> {
      return this.items.port();
    }
  }
  return { providers: [RoutedItems, ItemService], service: ItemService };
}

/** GET /items/:id through controller → service → repository wrapper, with a header saying where the read went. */
function chainController(service: Type<{ find(id: number): Promise<BenchItem | null>; where(): string; port(): Promise<number> }>): Type {
  @Controller()
  class ChainController {
    constructor(@Inject(service) private readonly items: InstanceType<typeof service>) {}

    @Get('items/:id')
    async item(@Param('id', ParseIntPipe) id: number, @Res({ passthrough: true }) response: { setHeader(name: string, value: string): void }) {
      const row = await this.items.find(id);
      response.setHeader('x-read-from', this.items.where());
      return row;
    }

    @Get('where')
    async where(): Promise<{ port: number }> {
      return { port: await this.items.port() };
    }
  }
  return ChainController;
}

/**
 * PinDb's HTTP machinery without PinDb, one piece at a time, to see what each costs: a middleware
 * for every route that runs the rest of the request in an AsyncLocalStorage context (as
 * PinDbMiddleware does), or a global guard and a global interceptor that do nothing.
 */
const storage = new AsyncLocalStorage<object>();

@Injectable()
class NoopGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

/** Mounted as PinDb mounts its middleware: on the HTTP adapter, ahead of every module's middleware. */
@Module({})
class AlsModule implements NestModule {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  configure(): void {
    this.adapterHost.httpAdapter.use((_request: unknown, _response: unknown, next: () => void) => storage.run({}, next));
  }
}

async function appModule(variant: Variant, cluster: ClusterInfo): Promise<Type> {
  // A function: each forRoot() registers the DataSource name `default` with @nestjs/typeorm.
  const plainTypeOrm = () =>
    TypeOrmModule.forRoot({
      type: 'postgres',
      replication: { master: cluster.primary, slaves: cluster.replicas },
      entities: [BenchItem],
      retryAttempts: 0,
    });
  const pindb = async (enabled: boolean) => {
    const lib = variant.endsWith('-baseline') ? pathToFileURL(`${BASELINE}/lib/index.js`).href : '../lib/index.js';
    const { PinDbModule } = (await import(lib)) as typeof import('../lib/index.js');
    return PinDbModule.forRoot({
      sets: { default: { primary: cluster.primary, replicas: cluster.replicas } },
      typeorm: { entities: [BenchItem], retryAttempts: 0 },
      enabled,
    });
  };
  let metadata: { imports: any[]; controllers: Type[]; providers: any[] };
  switch (variant) {
    case 'pindb':
    case 'pindb-fastify':
    case 'pindb-baseline':
    case 'pindb-fastify-baseline':
    case 'pindb-disabled':
      metadata = { imports: [await pindb(variant !== 'pindb-disabled')], controllers: [ItemsController], providers: [] };
      break;
    case 'pindb-graphql':
    case 'pindb-graphql-baseline':
      metadata = { imports: [await pindb(true), graphqlModule()], controllers: [ItemsController], providers: [ItemsResolver] };
      break;
    case 'plain':
    case 'plain-fastify':
      metadata = { imports: [plainTypeOrm()], controllers: [ItemsController], providers: [] };
      break;
    case 'plain-graphql':
      metadata = { imports: [plainTypeOrm(), graphqlModule()], controllers: [ItemsController], providers: [ItemsResolver] };
      break;
    case 'plain-primary':
      metadata = {
        imports: [TypeOrmModule.forRoot({ type: 'postgres', ...cluster.primary, entities: [BenchItem], retryAttempts: 0 })],
        controllers: [ItemsController],
        providers: [],
      };
      break;
    case 'plain-als':
      metadata = { imports: [plainTypeOrm(), AlsModule], controllers: [ItemsController], providers: [] };
      break;
    case 'plain-guard':
      metadata = { imports: [plainTypeOrm()], controllers: [ItemsController], providers: [{ provide: APP_GUARD, useClass: NoopGuard }] };
      break;
    case 'plain-interceptor':
      metadata = { imports: [plainTypeOrm()], controllers: [ItemsController], providers: [{ provide: APP_INTERCEPTOR, useClass: NoopInterceptor }] };
      break;
    case 'request-scoped':
      metadata = {
        imports: [plainTypeOrm()],
        controllers: [chainController(RequestScopedItemService)],
        providers: [RequestRoutedItems, RequestScopedItemService],
      };
      break;
    case 'singleton-chain': {
      const chain = await singletonChain();
      metadata = { imports: [await pindb(true)], controllers: [chainController(chain.service)], providers: chain.providers };
      break;
    }
  }
  metadata.imports.push(TypeOrmModule.forFeature([BenchItem]));

  @Module(metadata)
  class AppModule {}
  return AppModule;
}

async function appWorker(variant: Variant, cluster: ClusterInfo): Promise<void> {
  let app: Awaited<ReturnType<typeof NestFactory.create>>;
  // Garbage collection's pauses on the main thread, in all (ms).
  let gcMs = 0;
  // Of which full (mark-sweep-compact) collections: what objects living past a scavenge cost.
  let majorGcMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcMs += entry.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  serveBenchWorker({
    setup: async () => {
      const module = await appModule(variant, cluster);
      app =
        platformOf(variant) === 'fastify'
          ? await NestFactory.create(module, new FastifyAdapter(), { logger: ['error'] })
          : await NestFactory.create(module, { logger: ['error'] });
      await app.listen(0, '127.0.0.1');
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      return { url, pid: process.pid };
    },
    cpu: () => ({ ...process.cpuUsage(), gcMs, majorGcMs }),
    stop: () => app.close(),
  });
}

// ---------------------------------------------------------------- parent: load generator

interface RoundResult {
  rps: number;
  /** The app process's CPU µs per request. */
  cpuUs: number;
  /** µs per request the app's main thread spent in garbage collection pauses. */
  gcUs: number;
  /** …of which in full collections. */
  majorGcUs: number;
  latencyP50: number;
}

/** The requests of a load: GET /items/:id, or the same read as a GraphQL query (a POST). */
function requestsOf(variant: Variant): autocannon.Request[] {
  if (PING) return [{ method: 'GET', path: '/ping' }];
  return Array.from({ length: 20 }, (_, i) =>
    isGraphql(variant)
      ? {
          method: 'POST' as const,
          path: '/graphql',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: GRAPHQL_QUERY, variables: { id: nthId(i) } }),
        }
      : { method: 'GET' as const, path: `/items/${nthId(i)}` },
  );
}

/** Requests each app answered, warm-up included: to read a profile's figures per request. */
const served = new Map<Variant, number>();

async function load(variant: Variant, url: string, seconds: number): Promise<autocannon.Result> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, requests: requestsOf(variant) });
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses`);
  }
  served.set(variant, (served.get(variant) ?? 0) + result.requests.total);
  return result;
}

async function measure(variant: Variant, worker: BenchWorker, url: string, seconds: number): Promise<RoundResult> {
  const cpu0 = await worker.call<NodeJS.CpuUsage & { gcMs: number; majorGcMs: number }>('cpu');
  const t0 = performance.now();
  const result = await load(variant, url, seconds);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = await worker.call<NodeJS.CpuUsage & { gcMs: number; majorGcMs: number }>('cpu');
  const requests = result.requests.total;
  return {
    rps: requests / elapsed,
    cpuUs: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / requests,
    gcUs: ((cpu1.gcMs - cpu0.gcMs) * 1000) / requests,
    majorGcUs: ((cpu1.majorGcMs - cpu0.majorGcMs) * 1000) / requests,
    latencyP50: result.latency.p50,
  };
}

async function main(): Promise<void> {
  const { cluster, workers, env, stop } = await startBenchCluster();
  try {
    const replicaPorts = cluster.replicas.map((r) => r.port);
    console.log(`cluster: primary :${cluster.primary.port}, replicas ${replicaPorts.map((p) => ':' + p).join(', ')}`);

    const asked = process.env.VARIANTS?.split(',');
    const unknown = asked?.filter((v) => !(VARIANTS as readonly string[]).includes(v)) ?? [];
    if (unknown.length > 0) throw new Error(`unknown VARIANTS ${unknown.join(', ')}: the variants are ${VARIANTS.join(', ')}`);
    const variants = VARIANTS.filter((v) => (asked ? asked.includes(v) : true) && (BASELINE !== undefined || !v.endsWith('-baseline')));
    console.log(
      `node ${process.version}, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (${cpus().length} cores)`,
    );
    const apps = new Map<Variant, { worker: BenchWorker; url: string }>();
    for (const variant of variants) {
      const [worker, { url }] = await BenchWorker.start<{ url: string }>(variant, SELF, ['app', variant], env);
      workers.push(worker);
      apps.set(variant, { worker, url });
      const ports: number[] = [];
      for (let i = 0; i < 4; i++) ports.push(((await (await fetch(`${url}/where`)).json()) as { port: number }).port);
      const item = await fetch(`${url}/items/42`);
      const body = (await item.json()) as BenchItem;
      if (body.id !== 42) throw new Error(`${variant}: GET /items/42 returned ${JSON.stringify(body)}`);
      if (isGraphql(variant)) {
        const answer = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: GRAPHQL_QUERY, variables: { id: 42 } }),
        });
        const graphql = (await answer.json()) as { data?: { item?: BenchItem } };
        if (graphql.data?.item?.id !== 42) throw new Error(`${variant}: the GraphQL query returned ${JSON.stringify(graphql)}`);
      }
      const onPrimary = variant === 'pindb-disabled' || variant === 'plain-primary';
      const expected = onPrimary ? [cluster.primary.port] : replicaPorts;
      const ok = ports.every((port) => expected.includes(port));
      const readFrom = item.headers.get('x-read-from');
      console.log(
        `${pad(LABELS[variant], 44)} ${url}  reads served by ports ${ports.join(', ')} (${onPrimary ? 'primary' : 'replicas'}: ${ok ? 'yes' : 'NO'})${readFrom ? `, x-read-from: ${readFrom}` : ''}`,
      );
      if (!ok) throw new Error(`${variant} read from the wrong servers`);
    }

    console.log(`\nwarm-up: ${WARMUP_SECONDS} s per app`);
    for (const variant of variants) await load(variant, apps.get(variant)!.url, WARMUP_SECONDS);

    // Each comparison is measured as a pair, back to back (which goes first alternates), so that its
    // ratio compares two windows 5 s apart rather than two ends of a long round.
    const pairs = PAIRS.filter(([a, b]) => variants.includes(a) && variants.includes(b));
    const samples = new Map<string, { a: RoundResult; b: RoundResult }[]>(pairs.map(([a, b]) => [`${a}|${b}`, []]));
    const byVariant = new Map<Variant, RoundResult[]>(variants.map((v) => [v, []]));
    console.log(`${ROUNDS} rounds; in each, every comparison as a back-to-back pair of ${DURATION} s loads, ${CONNECTIONS} connections:`);
    for (let round = 0; round < ROUNDS; round++) {
      const line: string[] = [];
      for (const [a, b] of roundOrder(pairs, round)) {
        const order = round % 2 === 0 ? [a, b] : [b, a];
        const measured = new Map<Variant, RoundResult>();
        for (const variant of order) {
          const { worker, url } = apps.get(variant)!;
          const result = await measure(variant, worker, url, DURATION);
          measured.set(variant, result);
          byVariant.get(variant)!.push(result);
        }
        samples.get(`${a}|${b}`)!.push({ a: measured.get(a)!, b: measured.get(b)! });
        line.push(`${a} ${measured.get(a)!.rps.toFixed(0)} / ${b} ${measured.get(b)!.rps.toFixed(0)}`);
      }
      console.log(`round ${round + 1} (req/s): ${line.join(', ')}`);
    }

    console.log(
      `\n${pad(PING ? 'app (GET /ping, no database)' : 'app (GET /items/:id; GraphQL: the same read)', 44)} ${pad('req/s median', 13)} ${pad('req/s min–max', 15)} ${pad('p50 ms', 7)} ${pad('app CPU µs/req', 15)} ${pad('of which GC (full)', 18)}`,
    );
    for (const variant of variants) {
      const rs = byVariant.get(variant)!;
      if (rs.length === 0) continue;
      const rps = rs.map((r) => r.rps);
      console.log(
        `${pad(LABELS[variant], 44)} ${pad(median(rps).toFixed(0), 13)} ${pad(`${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}`, 15)} ${pad(median(rs.map((r) => r.latencyP50)).toFixed(1), 7)} ${pad(median(rs.map((r) => r.cpuUs)).toFixed(0), 15)} ${pad(`${median(rs.map((r) => r.gcUs)).toFixed(1)} (${median(rs.map((r) => r.majorGcUs)).toFixed(1)})`, 18)}`,
      );
    }
    const ratio = (a: Variant, b: Variant, key: keyof RoundResult) => median(samples.get(`${a}|${b}`)!.map((s) => s.a[key] / s.b[key]));
    console.log('\nratios, median of the per-round pair ratios:');
    for (const [a, b, why] of pairs) {
      const rps = ratio(a, b, 'rps');
      const cpu = ratio(a, b, 'cpuUs');
      const range = (key: 'rps' | 'cpuUs') => {
        const values = samples.get(`${a}|${b}`)!.map((s) => s.a[key] / s.b[key]);
        return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
      };
      console.log(
        `  ${pad(`${LABELS[a]} / ${LABELS[b]}`, 84)} req/s ×${rps.toFixed(3)} (${range('rps')})  app CPU per request ×${cpu.toFixed(3)} (${range('cpuUs')})   ${why}`,
      );
    }
    if (process.env.BENCH_CPU_PROF || process.env.BENCH_HEAP_PROF) {
      console.log(`\nrequests answered while profiled: ${[...served].map(([variant, n]) => `${variant} ${n}`).join(', ')}`);
    }
    // The goal of the headline: ≥ 0.95 on Node 24 and later (AsyncContextFrame), ≥ 0.85 on Node 20 (promise hooks).
    const goal = Number(process.versions.node.split('.')[0]) >= 24 ? 0.95 : 0.85;
    console.log('');
    for (const [a, b] of PAIRS.filter(([, , why]) => why.startsWith('the goal'))) {
      if (!samples.has(`${a}|${b}`)) continue;
      const r = ratio(a, b, 'rps');
      console.log(`RESULT: req/s ${LABELS[a]} / ${LABELS[b]} = ${r.toFixed(3)} (node ${process.version}, goal ≥ ${goal}: ${r >= goal ? 'met' : 'NOT met'})`);
    }
    if (samples.has('singleton-chain|request-scoped')) {
      console.log(`RESULT: req/s singleton chain + RoutingService / Scope.REQUEST chain = ${ratio('singleton-chain', 'request-scoped', 'rps').toFixed(3)}`);
    }
  } finally {
    await stop();
  }
}

runBench(process.argv[2] === 'app', (cluster) => appWorker(process.argv[3] as Variant, cluster), main);
