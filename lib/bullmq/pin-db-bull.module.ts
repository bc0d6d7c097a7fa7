import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BullModule } from '@nestjs/bullmq';
import { PinDbBullExplorer } from './pin-db-bull.explorer.js';
import { PIN_DB_BULL_OPTIONS, PinDbBullOptions, resolvePinDbBullOptions } from './pin-db-bull.options.js';
import { PinDbFlowProducer } from './pin-db.flow-producer.js';
import { PinDbQueue } from './pin-db.queue.js';
import { PinDbWorker } from './pin-db.worker.js';

// Why subclasses set through @nestjs/bullmq's public static setters (the hooks BullMQ Pro's
// QueuePro and WorkerPro use), and not the alternatives:
// - BullMQ's `telemetry` option does carry context from `add` to the processor (getMetadata /
//   fromMetadata), but an app has one telemetry slot per queue, and it is OpenTelemetry's;
// - @nestjs/bullmq's ProcessorDecoratorService can wrap each processor, but only by overriding a
//   provider of BullModule's own module, which Nest offers in tests alone; it sees neither the job
//   options on `add` nor the worker's lock token that moveToDelayed needs.
// The queue and flow producer classes are read when BullModule.registerQueue() /
// registerFlowProducer() is called, that is when the module that calls it is loaded: hence at load
// time, here, and a check at bootstrap (PinDbBullExplorer) for modules loaded before this file.
BullModule.queueClass = PinDbQueue;
BullModule.flowProducerClass = PinDbFlowProducer;
BullModule.workerClass = PinDbWorker;

/**
 * Read-your-writes for BullMQ jobs: import once, beside PinDbModule and BullModule.forRoot. Jobs
 * added in a pinning context carry its token; each `@Processor` job runs in a fresh context with
 * it, as its class's @JobConsistency says. `forRoot(options)` tunes 'delayed' consistency.
 */
@Module({ imports: [DiscoveryModule], providers: [PinDbBullExplorer] })
export class PinDbBullModule {
  static forRoot(options: PinDbBullOptions = {}): DynamicModule {
    return { module: PinDbBullModule, providers: [{ provide: PIN_DB_BULL_OPTIONS, useValue: resolvePinDbBullOptions(options) }] };
  }
}
