import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ORDER_CONFIRMATIONS } from './order-confirmation.job.js';
import { OrderConfirmationProcessor } from './order-confirmation.processor.js';
import { Order } from './order.entity.js';

/**
 * The order confirmation queue and its processor. BullModule.registerQueue runs when this file is
 * loaded: main.ts imports 'nestjs-pindb/bullmq' first, so the queue is a PinDbQueue. Exports the
 * queue (BullModule) to OrdersController, which adds a job per order.
 */
@Module({
  imports: [
    // Keep the last 100 finished jobs in Redis: enough to look at, not a growing list.
    BullModule.registerQueue({ name: ORDER_CONFIRMATIONS, defaultJobOptions: { removeOnComplete: 100, removeOnFail: 100 } }),
    TypeOrmModule.forFeature([Order]),
  ],
  providers: [OrderConfirmationProcessor],
  exports: [BullModule],
})
export class OrderJobsModule {}
