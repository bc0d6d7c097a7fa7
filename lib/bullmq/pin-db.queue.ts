import { Queue } from 'bullmq';
import { PinDbContext } from '../routing/pin-db.context.js';
import { withToken } from './job-token.js';
import { PinDbBullApp, PinDbBullApps } from './pin-db-bull.apps.js';

/**
 * A BullMQ Queue whose jobs carry the read-your-writes token of the context that adds them (an
 * HTTP request, `routing.run`, another job), in their options. PinDbBullModule makes it
 * `BullModule.queueClass`, so `BullModule.registerQueue` queues are PinDbQueues.
 */
export class PinDbQueue<DataTypeOrJob = any, DefaultResultType = any, DefaultNameType extends string = string> extends Queue<
  DataTypeOrJob,
  DefaultResultType,
  DefaultNameType
> {
  private app?: PinDbBullApp | null;

  override async add(
    ...[name, data, opts]: Parameters<Queue<DataTypeOrJob, DefaultResultType, DefaultNameType>['add']>
  ): ReturnType<Queue<DataTypeOrJob, DefaultResultType, DefaultNameType>['add']> {
    return super.add(name, data, withToken(opts, await this.contextToken()));
  }

  override async addBulk(
    ...[jobs]: Parameters<Queue<DataTypeOrJob, DefaultResultType, DefaultNameType>['addBulk']>
  ): ReturnType<Queue<DataTypeOrJob, DefaultResultType, DefaultNameType>['addBulk']> {
    const token = await this.contextToken();
    return super.addBulk(jobs.map((job) => ({ ...job, opts: withToken(job.opts, token) })));
  }

  /** Outside any context there is nothing to carry, and no app to ask. */
  private async contextToken(): Promise<string | undefined> {
    if (!PinDbContext.current()) return undefined;
    if (this.app === undefined) this.app = PinDbBullApps.find((app) => (app.owns(this) ? app : undefined)) ?? null;
    return this.app?.token();
  }
}
