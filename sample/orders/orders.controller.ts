import { BadRequestException, Body, Controller, Get, Optional, Post, UseGuards } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { DataSource, In, Repository } from 'typeorm';
import { Pin } from '../../lib/index.js';
import { Product } from '../products/product.entity.js';
import { CurrentUser, CurrentUserGuard } from '../users/current-user.guard.js';
import { User } from '../users/user.entity.js';
import { ORDER_CONFIRMATIONS, OrderConfirmation } from './order-confirmation.job.js';
import { Order, OrderLine } from './order.entity.js';

interface CreateOrder {
  items: { productId: number; quantity: number }[];
}

@Controller()
@UseGuards(CurrentUserGuard)
export class OrdersController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    // Absent when the shop runs without Redis (see main.ts): then no confirmation is sent.
    @Optional() @InjectQueue(ORDER_CONFIRMATIONS) private readonly confirmations?: Queue<OrderConfirmation>,
  ) {}

  /** Unpinned GET: the guard's user lookup goes to a replica. */
  @Get('me')
  me(@CurrentUser() user: User): User {
    return user;
  }

  /**
   * A POST is pinned from its start (pinUnsafeMethods), so the guard's user lookup, the stock
   * check and the insert all see the primary. The transaction would run on the primary anyway.
   * Once it has committed, the confirmation job is added: it carries this request's
   * read-your-writes token, so its read of the order waits for (or goes to) a server that has it.
   */
  @Post('orders')
  async create(@CurrentUser() user: User, @Body() body: CreateOrder): Promise<Order> {
    const items = checkItems(body);
    const order = await this.dataSource.transaction(async (manager) => {
      // FOR UPDATE: two orders for the last item must not both succeed.
      const products = await manager.find(Product, { where: { id: In(items.map((i) => i.productId)) }, lock: { mode: 'pessimistic_write' } });
      const lines: OrderLine[] = items.map(({ productId, quantity }) => {
        const product = products.find((p) => p.id === productId);
        if (!product) throw new BadRequestException(`No product ${productId}.`);
        if (product.stock < quantity) throw new BadRequestException(`Only ${product.stock} of "${product.name}" left.`);
        product.stock -= quantity;
        return { productId, quantity, priceCents: product.priceCents };
      });
      await manager.save(products);
      const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.priceCents, 0);
      return manager.save(manager.create(Order, { userId: user.id, lines, totalCents }));
    });
    await this.confirmations?.add('confirm', { orderId: order.id });
    return order;
  }

  /**
   * @Pin(): a shopper who just ordered must find the order here, and a replica may be a moment
   * behind. The read-your-writes token (cookie pindb) covers a browser that keeps its cookies; @Pin
   * covers every client (curl without a cookie jar, another device): this page, the guard's user
   * lookup included, reads the primary.
   */
  @Get('me/orders')
  @Pin()
  myOrders(@CurrentUser() user: User): Promise<Order[]> {
    return this.orders.find({ where: { userId: user.id }, order: { id: 'DESC' } });
  }
}

function checkItems(body: CreateOrder | undefined): CreateOrder['items'] {
  const items = body?.items;
  const valid =
    Array.isArray(items) && items.length > 0 && items.every((i) => Number.isInteger(i?.productId) && Number.isInteger(i?.quantity) && i.quantity > 0);
  if (!valid) throw new BadRequestException('Send {"items": [{"productId": 1, "quantity": 2}]}.');
  return items;
}
