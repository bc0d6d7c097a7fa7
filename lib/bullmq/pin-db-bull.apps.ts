import type { Job } from 'bullmq';
import type { RoutingFrame } from '../routing/context-state.js';
import type { JobConsistencyMode } from './job-consistency.js';

/** How a worker's jobs start, from its processor class and PinDbBullModule's options. */
export interface WorkerJobSettings {
  consistency: JobConsistencyMode;
  delayMs: number;
  maxDelays: number;
  /** Whether the reads of a job in `frame` would wait for a replica to replay its token. */
  waitsForReplay(frame: RoutingFrame): Promise<boolean>;
  /** A job was put back (its `delays`-th time): counted and logged. */
  delayed(job: Job, delays: number): void;
}

/** What a queue, flow producer or worker asks of the app that made it. */
export interface PinDbBullApp {
  /** Nest made `target` (a queue or flow producer) as one of this app's providers. */
  owns(target: object): boolean;
  /** The current context's read-your-writes token (RoutingService.token()). */
  token(): Promise<string | undefined>;
  /** The settings of `worker`, if this app made it for one of its `@Processor` classes. */
  workerSettings(worker: { readonly name: string }): WorkerJobSettings | undefined;
}

/**
 * The apps of this process that imported PinDbBullModule. @nestjs/bullmq makes queues, flow
 * producers and workers with `new cls(name, opts)`, outside dependency injection, so they cannot
 * be handed their app: each one finds it here when first used, by asking every app whether Nest
 * made it (several apps may share a process: tests, or an HTTP app beside a worker app).
 */
export class PinDbBullApps {
  private static readonly apps = new Set<PinDbBullApp>();

  static add(app: PinDbBullApp): void {
    this.apps.add(app);
  }

  static delete(app: PinDbBullApp): void {
    this.apps.delete(app);
  }

  /** The first answer an app gives. */
  static find<T>(ask: (app: PinDbBullApp) => T | undefined): T | undefined {
    for (const app of this.apps) {
      const answer = ask(app);
      if (answer !== undefined) return answer;
    }
    return undefined;
  }
}
