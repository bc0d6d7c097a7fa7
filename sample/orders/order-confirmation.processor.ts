import { Inject } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { InjectRepository } from '@nestjs/typeorm';
import type { Job } from 'bullmq';
import { Repository } from 'typeorm';
import { JobConsistency } from '../../lib/bullmq/index.js';
import { RoutingService } from '../../lib/index.js';
import { PRIMARY_SERVERS, routingSummary } from '../routing-summary.js';
import { ShopLog } from '../shop-log.service.js';
import { ConfirmationSent, ORDER_CONFIRMATIONS, OrderConfirmation } from './order-confirmation.job.js';
import { Order } from './order.entity.js';

/**
 * Sends the confirmation of an order just placed (here: logs it). The job was added by
 * POST /orders right after the order's INSERT, so it carries that request's read-your-writes token
 * and runs in a context with it. 'delayed': rather than read the primary, the job is put back
 * (1 s, 3 times at most) until a replica has replayed the order; a mail can wait a second.
 */
@Processor(ORDER_CONFIRMATIONS)
@JobConsistency('delayed')
export class OrderConfirmationProcessor extends WorkerHost {
  constructor(
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    private readonly routing: RoutingService,
    private readonly log: ShopLog,
    @Inject(PRIMARY_SERVERS) private readonly primaries: string[],
  ) {
    super();
  }

  async process(job: Job<OrderConfirmation>): Promise<ConfirmationSent> {
    // One query (findOne with a relation would first select the id, then the row).
    const order = await this.orders.createQueryBuilder('o').innerJoinAndSelect('o.user', 'u').where('o.id = :id', { id: job.data.orderId }).getOne();
    // Without the token, a replica that has not replayed the INSERT yet would answer here.
    if (!order) throw new Error(`No order ${job.data.orderId}.`);
    const stats = this.routing.stats();
    const putBack = timesPutBack(job);
    const summary = routingSummary(stats, this.primaries) + (putBack > 0 ? `, put back ×${putBack}` : '');
    this.log.line(`job ${job.queueName} #${job.id}: order ${order.id} confirmed to ${order.user!.email} — ${summary}`);
    return { orderId: order.id, to: order.user!.email, readFrom: Object.values(stats.sets).flatMap((set) => Object.keys(set.servers)), putBack };
  }
}

/**
 * How many times the job was put back: BullMQ counts each start (attemptsStarted, this one
 * included), each failure (attemptsMade) and each stall, and a manual delay in none of them.
 */
function timesPutBack(job: Job): number {
  return Math.max(0, job.attemptsStarted - 1 - job.attemptsMade - (job.stalledCounter ?? 0));
}
