// What PinDb's routing adds to a TypeORM read: the same sequential `repository.findOneBy({ id })`
// loop through a plain TypeORM DataSource with `replication` and through PinDbModule's DataSource,
// both reading from the replicas of one 1 + 2 cluster.
//
// Run: npm run bench:routing-overhead      (goal: PinDb in a context within 3 % of plain TypeORM)
// Env: ROUNDS (default 60), READS per round (default 200), WARMUP rounds (default 5). Short rounds,
// many of them: a burst of the machine's other load then spoils one round of every variant alike.
//
// Plain TypeORM and PinDb run in two child processes (bench/worker.ts): on Node < 24 an
// AsyncLocalStorage, once it has run a context, turns on Node's promise hooks for its whole
// process, so plain TypeORM in PinDb's process would pay part of PinDb's cost and hide it. Hence
// the variants:
//   plain                 plain TypeORM, in a process where no ALS ever ran (the reference)
//   plain-als             the same process and DataSource, inside an ALS.run() of our own
//                         (disabled again after each round): what ALS alone costs
//   pindb-run             PinDb, the loop in one routing.run() (a job; the headline figure)
//   pindb-random          the same with replicaSelection 'random' (TypeORM's own policy): sequential
//                         reads alternate strictly between the replicas under round-robin, which
//                         on a small machine wakes an idle server for every read
//   pindb-run-per-read    PinDb, each read in its own routing.run() (a request per read)
//   pindb-no-context      PinDb, outside any context
//   plain-in-pindb        plain TypeORM in PinDb's process: PinDb's own hooks = pindb-run / this
// The parent runs one variant at a time, in a fresh order each round, and reports ratios measured
// side by side: the median single read (robust to the machine's other load), the round's mean,
// and this process's CPU time per read (process.cpuUsage: the client-side cost routing adds to).
// Then, in PinDb's process, plain TypeORM and PinDb (round-robin and random) read by turns, one
// read each (INTERLEAVED_READS, default 5000): the steadiest figure for PinDb's own hooks, since
// the machine's other load falls on all of them alike. Last, it counts promises per read
// (deterministic) and times PinDb's hooks in a tight loop.
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken, getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm';
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import { DataSource, Repository } from 'typeorm';
import { BenchItem, nthId } from './bench-item.js';
import { ClusterInfo, runBench, startBenchCluster } from './cluster-check.js';
import { saveResults } from './results.js';
import { median, pad, roundOrder } from './stats.js';
import { BenchWorker, serveBenchWorker } from './worker.js';

const ROUNDS = Number(process.env.ROUNDS ?? 60);
const READS = Number(process.env.READS ?? 200);
const WARMUP = Number(process.env.WARMUP ?? 5);
const INTERLEAVED_READS = Number(process.env.INTERLEAVED_READS ?? 5000);
const SELF = fileURLToPath(import.meta.url);

interface RoundResult {
  /** Wall time of the round / reads, µs. */
  meanUs: number;
  /** Median of the reads' own wall times, µs. */
  medianUs: number;
  /** This process's user + system CPU time / reads, µs. */
  cpuUs: number;
}

/** Where reads went, checked once per variant before measuring. */
interface Verification {
  ports: number[];
  note: string;
}

type Variant = 'plain' | 'plain-als' | 'pindb-run' | 'pindb-random' | 'pindb-run-per-read' | 'pindb-no-context' | 'plain-in-pindb';

const LABELS: Record<Variant, string> = {
  plain: 'plain TypeORM (own process)',
  'plain-als': 'plain TypeORM, in an ALS.run()',
  'pindb-run': 'PinDb, whole loop in routing.run()',
  'pindb-random': "PinDb as above, replicaSelection 'random'",
  'pindb-run-per-read': 'PinDb, one routing.run() per read',
  'pindb-no-context': 'PinDb, outside any context',
  'plain-in-pindb': "plain TypeORM in PinDb's process",
};

// ---------------------------------------------------------------- the measured loop

async function readLoop(repository: Repository<BenchItem>, perRead?: (read: () => Promise<unknown>) => Promise<unknown>, reads = READS): Promise<RoundResult> {
  const times = new Float64Array(reads);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < reads; i++) {
    const id = nthId(i);
    const start = performance.now();
    const row = await (perRead ? perRead(() => repository.findOneBy({ id })) : repository.findOneBy({ id }));
    times[i] = performance.now() - start;
    if ((row as BenchItem | null)?.id !== id) throw new Error(`read ${id} returned ${JSON.stringify(row)}`);
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { meanUs: (wall * 1000) / reads, medianUs: median([...times]) * 1000, cpuUs: (cpu.user + cpu.system) / reads };
}

/** Promises created per read (100 reads), counted by an async hook: a noise-free measure of the work per read. */
async function promisesPerRead(loop: () => Promise<unknown>): Promise<number> {
  let promises = 0;
  const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) }).enable();
  try {
    await loop();
  } finally {
    hook.disable();
  }
  return promises / 100;
}

async function serverPorts(dataSource: DataSource, times = 4): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < times; i++) {
    const row = await dataSource.createQueryBuilder().select('inet_server_port()', 'port').fromDummy().getRawOne();
    ports.push(Number(row.port));
  }
  return ports;
}

function plainDataSource(cluster: ClusterInfo): DataSource {
  return new DataSource({ type: 'postgres', replication: { master: cluster.primary, slaves: cluster.replicas }, entities: [BenchItem] });
}

// ---------------------------------------------------------------- child: plain TypeORM only

async function plainWorker(cluster: ClusterInfo): Promise<void> {
  const dataSource = plainDataSource(cluster);
  serveBenchWorker({
    setup: async (): Promise<Verification> => {
      await dataSource.initialize();
      return { ports: await serverPorts(dataSource), note: 'query builder inet_server_port()' };
    },
    round: async (variant: Variant) => {
      const repository = dataSource.getRepository(BenchItem);
      if (variant === 'plain') return readLoop(repository);
      // An AsyncLocalStorage of our own, and nothing else of PinDb: what ALS alone costs. Disabled
      // after the round, so that Node turns its promise hooks off again for the 'plain' rounds.
      const storage = new AsyncLocalStorage<object>();
      try {
        return await storage.run({}, () => readLoop(repository));
      } finally {
        storage.disable();
      }
    },
    promises: async (variant: Variant) => {
      const repository = dataSource.getRepository(BenchItem);
      if (variant === 'plain') return promisesPerRead(() => readLoop(repository, undefined, 100));
      const storage = new AsyncLocalStorage<object>();
      try {
        return await storage.run({}, () => promisesPerRead(() => readLoop(repository, undefined, 100)));
      } finally {
        storage.disable();
      }
    },
    stop: () => dataSource.destroy(),
  });
}

// ---------------------------------------------------------------- child: PinDb in a Nest application context

async function pindbWorker(cluster: ClusterInfo): Promise<void> {
  const { PinDbModule, RoutingService } = await import('../lib/index.js');

  const appModule = (replicaSelection: 'round-robin' | 'random') => {
    @Module({
      imports: [
        PinDbModule.forRoot({
          sets: { default: { primary: cluster.primary, replicas: cluster.replicas } },
          typeorm: { entities: [BenchItem] },
          replicaSelection,
        }),
        TypeOrmModule.forFeature([BenchItem]),
      ],
    })
    class AppModule {}
    return AppModule;
  };

  let app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>;
  /** A second app, replicaSelection 'random' as TypeORM's own choice: the policy's share of the wall time. */
  let randomApp: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>;
  let repository: Repository<BenchItem>;
  let randomRepository: Repository<BenchItem>;
  let routing: InstanceType<typeof RoutingService>;
  const plain = plainDataSource(cluster);

  serveBenchWorker({
    setup: async (): Promise<Verification> => {
      app = await NestFactory.createApplicationContext(appModule('round-robin'), { logger: ['error'] });
      repository = app.get<Repository<BenchItem>>(getRepositoryToken(BenchItem));
      randomApp = await NestFactory.createApplicationContext(appModule('random'), { logger: ['error'] });
      randomRepository = randomApp.get<Repository<BenchItem>>(getRepositoryToken(BenchItem));
      routing = app.get(RoutingService);
      await plain.initialize();
      const dataSource = app.get<DataSource>(getDataSourceToken());
      return routing.run(async () => {
        const ports = await serverPorts(dataSource);
        for (let i = 1; i <= 10; i++) await repository.findOneBy({ id: i });
        const stats = routing.stats().sets.default;
        if (stats.primary !== 0) throw new Error(`PinDb sent reads to the primary: ${JSON.stringify(stats)}`);
        return { ports, note: `query builder inet_server_port(); 10 findOneBy: routing.stats() ${JSON.stringify(stats.servers)}` };
      });
    },
    round: (variant: Variant) => {
      switch (variant) {
        case 'pindb-run':
          return routing.run(() => readLoop(repository));
        case 'pindb-random':
          return routing.run(() => readLoop(randomRepository));
        case 'pindb-run-per-read':
          return readLoop(repository, (read) => routing.run(read));
        case 'pindb-no-context':
          return readLoop(repository);
        case 'plain-in-pindb':
          return readLoop(plain.getRepository(BenchItem));
        default:
          throw new Error(`not a PinDb variant: ${variant}`);
      }
    },
    promises: (variant: Variant) => {
      const loop = (repo: Repository<BenchItem>) => () => readLoop(repo, undefined, 100);
      switch (variant) {
        case 'pindb-run':
          return routing.run(() => promisesPerRead(loop(repository)));
        case 'pindb-no-context':
          return promisesPerRead(loop(repository));
        case 'plain-in-pindb':
          return promisesPerRead(loop(plain.getRepository(BenchItem)));
        default:
          throw new Error(`no promise count for ${variant}`);
      }
    },
    hooks: () => hookCosts(app, repository),
    // The three DataSources of this process read by turns, one read each, all in one context:
    // whatever else the machine does then falls on all three alike.
    interleaved: async (reads: number) => {
      const repositories = [plain.getRepository(BenchItem), repository, randomRepository];
      const times = repositories.map(() => new Float64Array(reads));
      const cpu = repositories.map(() => 0);
      await routing.run(async () => {
        for (let i = 0; i < reads; i++) {
          const id = nthId(i);
          for (let k = 0; k < repositories.length; k++) {
            const which = (i + k) % repositories.length;
            const cpu0 = process.cpuUsage();
            const start = performance.now();
            const row = await repositories[which].findOneBy({ id });
            times[which][i] = performance.now() - start;
            const used = process.cpuUsage(cpu0);
            cpu[which] += used.user + used.system;
            if (row?.id !== id) throw new Error(`read ${id} returned ${JSON.stringify(row)}`);
          }
        }
      });
      return repositories.map((_, k) => ({ medianUs: median([...times[k]]) * 1000, cpuUs: cpu[k] / reads }));
    },
    stop: async () => {
      await plain.destroy();
      await randomApp.close();
      await app.close();
    },
  });
}

/** ns per call of each piece PinDb runs around one findOneBy, in a tight loop. */
async function hookCosts(app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>, repository: Repository<BenchItem>) {
  const { PinDbContext } = await import('../lib/routing/pin-db.context.js');
  const { PinDbRouter } = await import('../lib/routing/pin-db.router.js');
  const { ContextState } = await import('../lib/routing/context-state.js');
  const { classifyStatement } = await import('../lib/routing/statement-kind.js');
  const router = app.get(PinDbRouter).forSet('default');
  const dataSource = app.get<DataSource>(getDataSourceToken());

  // The exact SQL findOneBy sends, caught at the (already routed) driver.
  let sql = '';
  const logger = dataSource.logger;
  const logQuery = logger.logQuery;
  logger.logQuery = (text: string) => void (sql = text);
  await repository.findOneBy({ id: 1 });
  logger.logQuery = logQuery;

  const N = 200_000;
  const time = (fn: () => unknown): number => {
    for (let i = 0; i < 10_000; i++) fn();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn();
    return Number(process.hrtime.bigint() - t0) / N;
  };
  const eligible = (host: { connectionPool?: unknown }) => host.connectionPool !== undefined;
  return PinDbContext.run(() => {
    const frame = PinDbContext.current();
    return {
      sql,
      ns: {
        'PinDbContext.current()': time(() => PinDbContext.current()),
        'router.target(frame)  [defaultReplicationModeForReads]': time(() => router.target(frame)),
        'classifyStatement(sql)  [cached]': time(() => classifyStatement(sql)),
        'hosts.next(eligible)  [filter + pick]': time(() => router.hosts.next(eligible)),
        'router.recordQuery()  [stats + Logger.isLevelEnabled]': time(() => router.recordQuery(frame, 'replica', 'x:1')),
        'new ContextState()': time(() => new ContextState()),
        'routing.run(() => 0)  [ALS run]': time(() => PinDbContext.run(() => 0)),
      },
    };
  });
}

// ---------------------------------------------------------------- parent

function summary(results: RoundResult[], key: keyof RoundResult): { mean: number; median: number } {
  const values = results.map((r) => r[key]);
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, median: median(values) };
}

function pct(ratio: number): string {
  const value = (ratio - 1) * 100;
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)} %`;
}

async function main(): Promise<void> {
  const { cluster, workers, env, stop } = await startBenchCluster();
  try {
    console.log(`cluster: primary :${cluster.primary.port}, replicas ${cluster.replicas.map((r) => ':' + r.port).join(', ')}`);

    const [plain, plainCheck] = await BenchWorker.start<Verification>('plain', SELF, ['plain'], env);
    workers.push(plain);
    const [pindb, pindbCheck] = await BenchWorker.start<Verification>('pindb', SELF, ['pindb'], env);
    workers.push(pindb);
    const replicaPorts = cluster.replicas.map((r) => r.port);
    for (const [name, check] of [
      ['plain TypeORM', plainCheck],
      ['PinDb (in routing.run)', pindbCheck],
    ] as const) {
      const onReplicas = check.ports.every((port) => replicaPorts.includes(port));
      console.log(`${name}: reads served by ports ${check.ports.join(', ')} (${onReplicas ? 'replicas' : 'NOT ONLY REPLICAS'}) — ${check.note}`);
      if (!onReplicas) throw new Error(`${name} did not read from the replicas`);
    }

    const variants: Variant[] = ['plain', 'plain-als', 'pindb-run', 'pindb-random', 'pindb-run-per-read', 'pindb-no-context', 'plain-in-pindb'];
    const workerOf = (variant: Variant) => (variant === 'plain' || variant === 'plain-als' ? plain : pindb);
    const results = new Map<Variant, RoundResult[]>(variants.map((v) => [v, []]));
    console.log(`\n${READS} sequential findOneBy per round, ${WARMUP} warm-up + ${ROUNDS} measured rounds per variant, interleaved (a fresh order each round)`);
    for (let round = -WARMUP; round < ROUNDS; round++) {
      const order = roundOrder(variants, round);
      const line: string[] = [];
      for (const variant of order) {
        const result = await workerOf(variant).call<RoundResult>('round', variant);
        if (round >= 0) results.get(variant)!.push(result);
        line.push(`${variant} ${result.meanUs.toFixed(0)}µs`);
      }
      if (round < 0 || (round + 1) % 10 === 0 || process.env.VERBOSE) console.log(`${round < 0 ? 'warm-up' : `round ${round + 1}`}: ${line.join(', ')}`);
    }

    const base = results.get('plain')!;
    const ratioTo = (variant: Variant, key: keyof RoundResult, reference = base) => median(results.get(variant)!.map((r, i) => r[key] / reference[i][key]));
    console.log('\nper read, over the measured rounds (mean / median of the per-round figures):');
    console.log(
      "(mean: a round's wall time / reads; median: of the round's single reads, robust to the machine's other load; CPU: this process's user+system)",
    );
    console.log(
      `${pad('variant', 38)} ${pad('mean µs', 14)} ${pad('median µs', 14)} ${pad('CPU µs', 14)} ${pad('vs plain: median', 17)} ${pad('mean', 9)} ${pad('CPU', 9)}`,
    );
    for (const variant of variants) {
      const f = (key: keyof RoundResult) => {
        const s = summary(results.get(variant)!, key);
        return `${s.mean.toFixed(1)} / ${s.median.toFixed(1)}`;
      };
      const vs = variant === 'plain' ? ['—', '—', '—'] : [pct(ratioTo(variant, 'medianUs')), pct(ratioTo(variant, 'meanUs')), pct(ratioTo(variant, 'cpuUs'))];
      console.log(
        `${pad(LABELS[variant], 38)} ${pad(f('meanUs'), 14)} ${pad(f('medianUs'), 14)} ${pad(f('cpuUs'), 14)} ${pad(vs[0], 17)} ${pad(vs[1], 9)} ${pad(vs[2], 9)}`,
      );
    }
    const inPindb = results.get('plain-in-pindb')!;
    console.log('\nwhere it comes from (median of per-round ratios):');
    const line = (label: string, variant: Variant, reference: RoundResult[]) =>
      console.log(`  ${pad(label, 84)} median read ${pad(pct(ratioTo(variant, 'medianUs', reference)), 8)} CPU ${pct(ratioTo(variant, 'cpuUs', reference))}`);
    line('AsyncLocalStorage enabled, nothing else (plain in ALS.run() vs plain, same process):', 'plain-als', base);
    line("PinDb's process (Nest app context, PinDb's ALS on) (plain TypeORM there vs in its own):", 'plain-in-pindb', base);
    line("PinDb's hooks (PinDb in routing.run() vs plain TypeORM, both in PinDb's process):", 'pindb-run', inPindb);
    line("…the same with replicaSelection 'random', TypeORM's own policy:", 'pindb-random', inPindb);
    const promiseCounts: [string, number][] = [];
    for (const variant of ['plain', 'plain-als', 'plain-in-pindb', 'pindb-run', 'pindb-no-context'] as Variant[]) {
      promiseCounts.push([variant, await workerOf(variant).call<number>('promises', variant)]);
    }
    console.log(`  promises created per read (async_hooks count, 100 reads): ${promiseCounts.map(([v, n]) => `${v} ${n.toFixed(1)}`).join(', ')}`);
    const interleaved = await pindb.call<{ medianUs: number; cpuUs: number }[]>('interleaved', INTERLEAVED_READS);
    const [ip, irr, irand] = interleaved;
    const fine = (label: string, r: { medianUs: number; cpuUs: number }) =>
      `${label} median ${r.medianUs.toFixed(1)} µs (${pct(r.medianUs / ip.medianUs)}), CPU ${r.cpuUs.toFixed(1)} µs (${pct(r.cpuUs / ip.cpuUs)})`;
    console.log(`  read by turns in PinDb's process, ${INTERLEAVED_READS} reads each (the steadiest comparison of PinDb's hooks):`);
    console.log(
      `    plain TypeORM median ${ip.medianUs.toFixed(1)} µs, CPU ${ip.cpuUs.toFixed(1)} µs; ${fine('PinDb', irr)}; ${fine("PinDb 'random'", irand)}`,
    );
    const hooks = await pindb.call<{ sql: string; ns: Record<string, number> }>('hooks');
    console.log(`  per call, tight loop (findOneBy sends: ${hooks.sql.slice(0, 90)}…):`);
    for (const [name, ns] of Object.entries(hooks.ns)) console.log(`    ${pad(name, 58)} ${ns.toFixed(0)} ns`);

    const overhead = ratioTo('pindb-run', 'medianUs');
    console.log(
      `\nRESULT: PinDb (in a context) vs plain TypeORM replication: ${pct(overhead)} per read (median read, median of ${ROUNDS} per-round ratios; ` +
        `round means ${pct(ratioTo('pindb-run', 'meanUs'))}, client CPU ${pct(ratioTo('pindb-run', 'cpuUs'))}); goal ≤ +3 %: ${overhead <= 1.03 ? 'met' : 'NOT met'}`,
    );
    // One file per Node major: bench/charts.ts draws every one there is side by side.
    const ratios = (variant: Variant, reference = base) => ({
      medianRead: ratioTo(variant, 'medianUs', reference),
      meanRead: ratioTo(variant, 'meanUs', reference),
      cpu: ratioTo(variant, 'cpuUs', reference),
    });
    await saveResults(`routing-overhead-node${process.versions.node.split('.')[0]}`, {
      rounds: ROUNDS,
      reads: READS,
      /** Each variant's per-read figures as ratios to plain TypeORM in its own process (median of the per-round ratios). */
      vsPlain: Object.fromEntries(variants.filter((v) => v !== 'plain').map((v) => [v, ratios(v)])),
      /** PinDb's hooks alone: PinDb against plain TypeORM in PinDb's process. */
      hooks: { 'pindb-run': ratios('pindb-run', inPindb), 'pindb-random': ratios('pindb-random', inPindb) },
      /** Read by turns in one process: PinDb (round-robin, random) against plain TypeORM. */
      byTurns: {
        reads: INTERLEAVED_READS,
        plainMedianUs: ip.medianUs,
        'pindb-run': { medianRead: irr.medianUs / ip.medianUs, cpu: irr.cpuUs / ip.cpuUs },
        'pindb-random': { medianRead: irand.medianUs / ip.medianUs, cpu: irand.cpuUs / ip.cpuUs },
      },
      promisesPerRead: Object.fromEntries(promiseCounts),
    });
  } finally {
    await stop();
  }
}

const role = process.argv[2];
runBench(role === 'plain' || role === 'pindb', (cluster) => (role === 'plain' ? plainWorker : pindbWorker)(cluster), main);
