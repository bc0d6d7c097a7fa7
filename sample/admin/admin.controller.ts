import { Controller, Get } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import { Order } from '../orders/order.entity.js';
import { Product } from '../products/product.entity.js';

interface Report {
  orders: number;
  revenueCents: number;
  lowStock: Pick<Product, 'id' | 'name' | 'stock'>[];
}

@Controller('admin')
export class AdminController {
  // RoutingService comes from PinDbModule, which is global: no import needed in this module.
  constructor(
    private readonly routing: RoutingService,
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    @InjectRepository(Product) private readonly products: Repository<Product>,
  ) {}

  /**
   * Strict style: the code says up front that it needs the primary, instead of relying on a
   * write to pin. An admin deciding what to restock wants the numbers as of now, not as of the
   * replica's last replay. usePrimary covers every query inside fn, across awaits.
   */
  @Get('report')
  report(): Promise<Report> {
    return this.routing.usePrimary(async () => {
      const totals = await this.orders
        .createQueryBuilder('o')
        .select('count(*)::int', 'orders')
        .addSelect('coalesce(sum(o.totalCents), 0)::int', 'revenueCents')
        .getRawOne<{ orders: number; revenueCents: number }>();
      const lowStock = await this.products
        .createQueryBuilder('p')
        .select(['p.id', 'p.name', 'p.stock'])
        .where('p.stock < :threshold', { threshold: 10 })
        .orderBy('p.stock')
        .getMany();
      return { orders: totals?.orders ?? 0, revenueCents: totals?.revenueCents ?? 0, lowStock };
    });
  }
}
