// Requests per second of one GET route that reads one row through a repository (Express), with
// and without PinDb, and with a request-scoped routing chain (what people build without ALS)
// against PinDb's singletons reading RoutingService.
//
// Run: npm run bench:http-overhead     (goals: PinDb enabled / enabled: false ≥ 0.95)
// Env: ROUNDS (default 6), DURATION seconds per round (default 5), CONNECTIONS (default 50),
//      VARIANTS (comma-separated subset of the variants below; default all)
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
  MiddlewareConsumer,
  Module,
  NestInterceptor,
  NestMiddleware,
  NestModule,
  Param,
  ParseIntPipe,
  RequestMethod,
  Res,
  Scope,
  Type,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, NestFactory, REQUEST } from '@nestjs/core';
import { InjectDataSource, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import autocannon from 'autocannon';
import { AsyncLocalStorage } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import { Observable } from 'rxjs';
import { DataSource, Repository } from 'typeorm';
import { BenchItem, nthId } from './bench-item.js';
import { ClusterInfo, runBench, startBenchCluster } from './cluster-check.js';
import { median, pad, roundOrder } from './stats.js';
import { BenchWorker, serveBenchWorker } from './worker.js';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const DURATION = Number(process.env.DURATION ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const WARMUP_SECONDS = 3;
const SELF = fileURLToPath(import.meta.url);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

type Variant = 'pindb' | 'pindb-disabled' | 'plain' | 'plain-primary' | 'plain-als' | 'plain-enhancers' | 'request-scoped' | 'singleton-chain';

/** The comparisons: [a, b, what a / b shows]. */
const PAIRS: [Variant, Variant, string][] = [
  ['pindb', 'pindb-disabled', 'the goal: routing on vs off'],
  ['plain', 'plain-primary', 'the same without PinDb: 2 replicas vs the primary'],
  ['singleton-chain', 'request-scoped', 'ALS singletons vs a Scope.REQUEST chain'],
  ['pindb-disabled', 'plain', "PinDb's HTTP machinery, routing off"],
  ['plain-als', 'plain', '…of which an ALS.run() middleware'],
  ['plain-enhancers', 'plain', '…of which a global guard + interceptor'],
];

const LABELS: Record<Variant, string> = {
  pindb: 'PinDb enabled',
  'pindb-disabled': 'PinDb enabled: false',
  plain: 'no PinDb: TypeORM replication',
  'plain-primary': 'no PinDb: the primary only',
  'plain-als': 'no PinDb + ALS.run() middleware',
  'plain-enhancers': 'no PinDb + no-op global guard+intcpt.',
  'request-scoped': 'Scope.REQUEST chain, no PinDb',
  'singleton-chain': 'singleton chain + RoutingService',
};

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
}

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
class AlsMiddleware implements NestMiddleware {
  use(_request: unknown, _response: unknown, next: () => void): void {
    storage.run({}, next);
  }
}

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

@Module({ providers: [AlsMiddleware] })
class AlsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AlsMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
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
    const { PinDbModule } = await import('../lib/index.js');
    return PinDbModule.forRoot({
      sets: { default: { primary: cluster.primary, replicas: cluster.replicas } },
      typeorm: { entities: [BenchItem], retryAttempts: 0 },
      enabled,
    });
  };
  let metadata: { imports: any[]; controllers: Type[]; providers: any[] };
  switch (variant) {
    case 'pindb':
    case 'pindb-disabled':
      metadata = { imports: [await pindb(variant === 'pindb')], controllers: [ItemsController], providers: [] };
      break;
    case 'plain':
      metadata = { imports: [plainTypeOrm()], controllers: [ItemsController], providers: [] };
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
    case 'plain-enhancers':
      metadata = {
        imports: [plainTypeOrm()],
        controllers: [ItemsController],
        providers: [
          { provide: APP_GUARD, useClass: NoopGuard },
          { provide: APP_INTERCEPTOR, useClass: NoopInterceptor },
        ],
      };
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
  serveBenchWorker({
    setup: async () => {
      app = await NestFactory.create(await appModule(variant, cluster), { logger: ['error'] });
      await app.listen(0, '127.0.0.1');
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      return { url, pid: process.pid };
    },
    cpu: () => process.cpuUsage(),
    stop: () => app.close(),
  });
}

// ---------------------------------------------------------------- parent: load generator

interface RoundResult {
  rps: number;
  /** The app process's CPU µs per request. */
  cpuUs: number;
  latencyP50: number;
}

async function load(url: string, seconds: number): Promise<autocannon.Result> {
  const requests = Array.from({ length: 20 }, (_, i) => ({ method: 'GET' as const, path: `/items/${nthId(i)}` }));
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, requests });
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses`);
  }
  return result;
}

async function measure(worker: BenchWorker, url: string, seconds: number): Promise<RoundResult> {
  const cpu0 = await worker.call<NodeJS.CpuUsage>('cpu');
  const t0 = performance.now();
  const result = await load(url, seconds);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = await worker.call<NodeJS.CpuUsage>('cpu');
  const requests = result.requests.total;
  return { rps: requests / elapsed, cpuUs: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / requests, latencyP50: result.latency.p50 };
}

async function main(): Promise<void> {
  const { cluster, workers, env, stop } = await startBenchCluster();
  try {
    const replicaPorts = cluster.replicas.map((r) => r.port);
    console.log(`cluster: primary :${cluster.primary.port}, replicas ${replicaPorts.map((p) => ':' + p).join(', ')}`);

    const all: Variant[] = ['pindb', 'pindb-disabled', 'plain', 'plain-primary', 'plain-als', 'plain-enhancers', 'request-scoped', 'singleton-chain'];
    const variants = process.env.VARIANTS ? all.filter((v) => process.env.VARIANTS!.split(',').includes(v)) : all;
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
      const onPrimary = variant === 'pindb-disabled' || variant === 'plain-primary';
      const expected = onPrimary ? [cluster.primary.port] : replicaPorts;
      const ok = ports.every((port) => expected.includes(port));
      const readFrom = item.headers.get('x-read-from');
      console.log(
        `${pad(LABELS[variant], 34)} ${url}  reads served by ports ${ports.join(', ')} (${onPrimary ? 'primary' : 'replicas'}: ${ok ? 'yes' : 'NO'})${readFrom ? `, x-read-from: ${readFrom}` : ''}`,
      );
      if (!ok) throw new Error(`${variant} read from the wrong servers`);
    }

    console.log(`\nwarm-up: ${WARMUP_SECONDS} s per app`);
    for (const variant of variants) await load(apps.get(variant)!.url, WARMUP_SECONDS);

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
          const result = await measure(worker, url, DURATION);
          measured.set(variant, result);
          byVariant.get(variant)!.push(result);
        }
        samples.get(`${a}|${b}`)!.push({ a: measured.get(a)!, b: measured.get(b)! });
        line.push(`${a} ${measured.get(a)!.rps.toFixed(0)} / ${b} ${measured.get(b)!.rps.toFixed(0)}`);
      }
      console.log(`round ${round + 1} (req/s): ${line.join(', ')}`);
    }

    console.log(
      `\n${pad('app (GET /items/:id, Express)', 38)} ${pad('req/s median', 13)} ${pad('req/s min–max', 15)} ${pad('p50 ms', 7)} ${pad('app CPU µs/req', 14)}`,
    );
    for (const variant of variants) {
      const rs = byVariant.get(variant)!;
      if (rs.length === 0) continue;
      const rps = rs.map((r) => r.rps);
      console.log(
        `${pad(LABELS[variant], 38)} ${pad(median(rps).toFixed(0), 13)} ${pad(`${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}`, 15)} ${pad(median(rs.map((r) => r.latencyP50)).toFixed(1), 7)} ${pad(median(rs.map((r) => r.cpuUs)).toFixed(0), 14)}`,
      );
    }
    const ratio = (a: Variant, b: Variant, key: keyof RoundResult) => median(samples.get(`${a}|${b}`)!.map((s) => s.a[key] / s.b[key]));
    console.log('\nratios, median of the per-round pair ratios:');
    for (const [a, b, why] of pairs) {
      const rps = ratio(a, b, 'rps');
      const cpu = ratio(a, b, 'cpuUs');
      console.log(`  ${pad(`${LABELS[a]} / ${LABELS[b]}`, 74)} req/s ×${rps.toFixed(3)}  app CPU per request ×${cpu.toFixed(3)}   ${why}`);
    }
    if (samples.has('pindb|pindb-disabled')) {
      const r = ratio('pindb', 'pindb-disabled', 'rps');
      console.log(`\nRESULT: req/s PinDb enabled / enabled: false = ${r.toFixed(3)} (goal ≥ 0.95: ${r >= 0.95 ? 'met' : 'NOT met'})`);
    }
    if (samples.has('singleton-chain|request-scoped')) {
      console.log(`RESULT: req/s singleton chain + RoutingService / Scope.REQUEST chain = ${ratio('singleton-chain', 'request-scoped', 'rps').toFixed(3)}`);
    }
  } finally {
    await stop();
  }
}

runBench(process.argv[2] === 'app', (cluster) => appWorker(process.argv[3] as Variant, cluster), main);
