import { FlowProducer } from 'bullmq';
import { PinDbContext } from '../routing/pin-db.context.js';
import { flowWithToken } from './job-token.js';
import { PinDbBullApp, PinDbBullApps } from './pin-db-bull.apps.js';

type Add = FlowProducer['add'];
type AddBulk = FlowProducer['addBulk'];

/**
 * A BullMQ FlowProducer whose flows carry the read-your-writes token of the context that adds
 * them, in the options of every job of the tree (parent and children). PinDbBullModule makes it
 * `BullModule.flowProducerClass`.
 */
export class PinDbFlowProducer extends FlowProducer {
  private app?: PinDbBullApp | null;

  override async add(...[flow, opts]: Parameters<Add>): ReturnType<Add> {
    return super.add(flowWithToken(flow, await this.contextToken()), opts);
  }

  override async addBulk(...[flows]: Parameters<AddBulk>): ReturnType<AddBulk> {
    const token = await this.contextToken();
    return super.addBulk(flows.map((flow) => flowWithToken(flow, token)));
  }

  private async contextToken(): Promise<string | undefined> {
    if (!PinDbContext.current()) return undefined;
    if (this.app === undefined) this.app = PinDbBullApps.find((app) => (app.owns(this) ? app : undefined)) ?? null;
    return this.app?.token();
  }
}
