import { DelayedError, Job, Worker } from 'bullmq';
import { PinDbContext } from '../routing/pin-db.context.js';
import { delaysOf, jobStart, JobStartInputs } from './job-consistency.js';
import { pinDbTokenOf } from './job-token.js';
import { PinDbBullApps, WorkerJobSettings } from './pin-db-bull.apps.js';

/**
 * A BullMQ Worker that runs each job in a fresh pinning context with the token the job carries,
 * so that its reads see the writes of the context that enqueued it; and that applies its
 * processor's @JobConsistency. PinDbBullModule makes it `BullModule.workerClass`, so the workers
 * @nestjs/bullmq makes for `@Processor` classes are PinDbWorkers.
 *
 * It overrides `callProcessJob`, the protected step BullMQ's own Worker calls for each job (and
 * BullMQ Pro's WorkerPro overrides), rather than wrapping the processor function: the worker
 * stays the one place that sees both the job and the lock token `moveToDelayed` needs.
 */
export class PinDbWorker<DataType = any, ResultType = any, NameType extends string = string> extends Worker<DataType, ResultType, NameType> {
  private settings?: WorkerJobSettings | null;

  protected override callProcessJob(job: Job<DataType, ResultType, NameType>, token: string, signal?: AbortSignal): Promise<ResultType> {
    // By the first job @nestjs/bullmq has handed this worker to its processor: the app can tell whose it is.
    if (this.settings === undefined) this.settings = PinDbBullApps.find((app) => app.workerSettings(this)) ?? null;
    const settings = this.settings ?? undefined;
    const jobToken = pinDbTokenOf(job);
    return PinDbContext.runWithToken(jobToken, async () => {
      const frame = PinDbContext.current()!;
      const inputs: JobStartInputs = {
        consistency: settings?.consistency ?? 'sticky',
        hasToken: jobToken !== undefined,
        delays: delaysOf(job),
        maxDelays: settings?.maxDelays ?? 0,
      };
      let start = jobStart(inputs);
      if (start === 'ask') start = jobStart({ ...inputs, waitsForReplay: await settings!.waitsForReplay(frame) });
      if (start === 'primary') frame.context.pin([]);
      if (start === 'delay') {
        // BullMQ's manual delay: the job goes back to the delayed set under this worker's lock, and
        // DelayedError tells the worker it was moved (not failed).
        await job.moveToDelayed(Date.now() + settings!.delayMs, token);
        settings!.delayed(job, inputs.delays + 1);
        throw new DelayedError();
      }
      return super.callProcessJob(job, token, signal);
    });
  }
}
