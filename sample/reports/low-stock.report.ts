import { Inject, Injectable } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThanOrEqual, Repository } from 'typeorm';
import { PinningContext, RoutingService } from '../../lib/index.js';
import { Product } from '../products/product.entity.js';
import { PRIMARY_SERVERS, routingSummary } from '../routing-summary.js';
import { ShopLog } from '../shop-log.service.js';

/** How many left in stock counts as low. */
const LOW_STOCK = 3;

/** The cron job's name in @nestjs/schedule's SchedulerRegistry. */
export const LOW_STOCK_CRON = 'low-stock';

/**
 * A cron job: every 30 seconds, the products running low. No Nest enhancer runs around a cron
 * tick, so @PinningContext() gives each tick its own context: its reads go to a replica (nothing
 * here wrote), and routing.stats() counts this tick's queries only.
 *
 * `disabled`: main.ts starts it once the shop serves, so that no tick reads a replica before it
 * has replayed the tables and the seed (ScheduleModule would start it during app.init()).
 */
@Injectable()
export class LowStockReport {
  constructor(
    @InjectRepository(Product) private readonly products: Repository<Product>,
    private readonly routing: RoutingService,
    private readonly log: ShopLog,
    @Inject(PRIMARY_SERVERS) private readonly primaries: string[],
  ) {}

  @Cron('*/30 * * * * *', { name: LOW_STOCK_CRON, disabled: true })
  @PinningContext()
  async run(): Promise<string[]> {
    const low = await this.products.find({ where: { stock: LessThanOrEqual(LOW_STOCK) }, order: { stock: 'ASC' } });
    const names = low.map((product) => `${product.name} (${product.stock})`);
    this.log.line(`cron ${LOW_STOCK_CRON}: ${names.join(', ') || 'none'} — ${routingSummary(this.routing.stats(), this.primaries)}`);
    return names;
  }
}
