import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { WorkerHost } from '@nestjs/bullmq';
import { FlowProducer, Job, Queue, Worker } from 'bullmq';
import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import { JobDelayCounter } from '../metrics/job-delay-counter.js';
import { loadPromClient } from '../metrics/prom-client.js';
import type { RoutingFrame } from '../routing/context-state.js';
import { PinDbRouter } from '../routing/pin-db.router.js';
import { RoutingService } from '../routing/routing.service.js';
import { JOB_CONSISTENCY_METADATA } from './job-consistency.decorator.js';
import type { JobConsistencyMode } from './job-consistency.js';
import { PinDbBullApp, PinDbBullApps, WorkerJobSettings } from './pin-db-bull.apps.js';
import { PIN_DB_BULL_OPTIONS, resolvePinDbBullOptions } from './pin-db-bull.options.js';
import type { ResolvedPinDbBullOptions } from './pin-db-bull.options.js';
import { PinDbFlowProducer } from './pin-db.flow-producer.js';
import { PinDbQueue } from './pin-db.queue.js';
import { PinDbWorker } from './pin-db.worker.js';

const HOW_TO_FIX =
  "import 'nestjs-pindb/bullmq' before the modules that call BullModule.registerQueue / registerFlowProducer are loaded " +
  '(e.g. as the first import of main.ts), or set BullModule.queueClass = PinDbQueue, BullModule.flowProducerClass = PinDbFlowProducer ' +
  'and BullModule.workerClass = PinDbWorker there, before AppModule is imported.';

/**
 * PinDbBullModule's side of one app: it checks at bootstrap that @nestjs/bullmq made PinDb's
 * queues, flow producers and workers, and answers them (through PinDbBullApps) when they need the
 * app: a queue for the context's token, a worker for its processor's consistency and for the
 * replicas' replay positions.
 */
@Injectable()
export class PinDbBullExplorer implements PinDbBullApp, OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('PinDb');
  private readonly options: ResolvedPinDbBullOptions;
  private counter?: JobDelayCounter;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(PinDbRouter) private readonly router: PinDbRouter,
    @Inject(RoutingService) private readonly routing: RoutingService,
    @Optional() @Inject(PIN_DB_BULL_OPTIONS) options?: ResolvedPinDbBullOptions,
  ) {
    this.options = options ?? resolvePinDbBullOptions();
    // Registered before any worker exists (they are made in onModuleInit hooks), so none misses its app.
    PinDbBullApps.add(this);
  }

  /** Every queue and flow producer is made when onModuleInit runs: one made by a plain class fails the bootstrap. */
  async onModuleInit(): Promise<void> {
    for (const instance of this.instances()) {
      if (instance instanceof Queue && !(instance instanceof PinDbQueue)) {
        throw new PinDbConfigError(`The BullMQ queue "${instance.name}" is a plain Queue, so its jobs would carry no read-your-writes token: ${HOW_TO_FIX}`);
      }
      if (instance instanceof FlowProducer && !(instance instanceof PinDbFlowProducer)) {
        throw new PinDbConfigError(`A BullMQ flow producer is a plain FlowProducer, so its flows would carry no read-your-writes token: ${HOW_TO_FIX}`);
      }
    }
    await this.startMetrics();
  }

  /** Workers are made by @nestjs/bullmq's onModuleInit: by now each `@Processor` has its own (unless registered manually, later). */
  onApplicationBootstrap(): void {
    for (const host of this.hosts()) {
      const worker = workerOf(host);
      if (worker && !(worker instanceof PinDbWorker)) {
        throw new PinDbConfigError(
          `The worker of ${host.constructor.name} (queue "${worker.name}") is a plain Worker, so its jobs would not run with their read-your-writes token: ` +
            "BullModule.workerClass was set after 'nestjs-pindb/bullmq' was loaded. Set it to PinDbWorker (or a subclass of it).",
        );
      }
      if (worker && this.consistencyOf(host) === 'delayed') this.counter?.known(worker.name);
    }
  }

  onModuleDestroy(): void {
    PinDbBullApps.delete(this);
    this.counter?.close();
    this.counter = undefined;
  }

  owns(target: object): boolean {
    return this.instances().includes(target);
  }

  token(): Promise<string | undefined> {
    return this.routing.token();
  }

  workerSettings(worker: { readonly name: string }): WorkerJobSettings | undefined {
    const host = this.hosts().find((candidate) => workerOf(candidate) === worker);
    if (!host) return undefined;
    const queue = worker.name;
    return {
      consistency: this.consistencyOf(host),
      delayMs: this.options.delayMs,
      maxDelays: this.options.maxDelays,
      waitsForReplay: (frame: RoutingFrame) => this.router.waitsForReplay(frame),
      delayed: (job: Job, delays: number) => {
        this.counter?.delayed(queue);
        if (Logger.isLevelEnabled('debug')) {
          this.logger.debug(
            `queue ${queue}: job ${job.id} put back for ${this.options.delayMs} ms (${delays} of at most ${this.options.maxDelays}): no readable replica has replayed its read-your-writes token yet`,
          );
        }
      },
    };
  }

  private consistencyOf(host: WorkerHost): JobConsistencyMode {
    return this.reflector.get<JobConsistencyMode | undefined>(JOB_CONSISTENCY_METADATA, host.constructor) ?? 'sticky';
  }

  private async startMetrics(): Promise<void> {
    const metrics = this.router.options.metrics;
    if (!metrics) return;
    const prom = await loadPromClient();
    if (prom) this.counter = new JobDelayCounter(prom, metrics.registry ?? prom.register, metrics.prefix);
  }

  /** The app's singleton providers, as made (a request-scoped one is listed by its static instance, as @nestjs/bullmq does). */
  private instances(): object[] {
    const instances: object[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (typeof instance === 'object' && instance !== null) instances.push(instance);
    }
    return instances;
  }

  private hosts(): WorkerHost[] {
    return this.instances().filter((instance): instance is WorkerHost => instance instanceof WorkerHost);
  }
}

/** The host's worker, once @nestjs/bullmq has made it (its getter throws before). */
function workerOf(host: WorkerHost): Worker | undefined {
  try {
    return host.worker;
  } catch {
    return undefined;
  }
}
