import { Controller, Get, Param, ParseIntPipe } from '@nestjs/common';
import { UseReplica } from '../../lib/index.js';
import { Product } from './product.entity.js';
import { ProductsService } from './products.service.js';

@Controller()
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  /** An unpinned GET: its reads go to a replica, round robin. */
  @Get('products')
  list(): Promise<Product[]> {
    return this.products.list();
  }

  @Get('products/:id')
  get(@Param('id', ParseIntPipe) id: number): Promise<Product> {
    return this.products.get(id);
  }

  /** Greedy pinning: the service writes, then reads on the primary. See ProductsService.view. */
  @Get('products/:id/view')
  view(@Param('id', ParseIntPipe) id: number): Promise<Product> {
    return this.products.view(id);
  }

  /**
   * @UseReplica(): reads stay on replicas even once the request is pinned (here by the feed's own
   * impression UPDATE; later also by a client's read-your-writes token). Feeds, search and
   * reports tolerate a little lag, and they are where the read traffic is.
   */
  @Get('feed')
  @UseReplica()
  feed(): Promise<{ newest: Product[]; popular: Product[] }> {
    return this.products.feed();
  }
}
