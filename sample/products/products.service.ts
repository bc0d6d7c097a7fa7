import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import { Product } from './product.entity.js';

/** Plain TypeORM: nothing here names a server. Where each query goes is the context's business. */
@Injectable()
export class ProductsService {
  constructor(
    @InjectRepository(Product) private readonly products: Repository<Product>,
    private readonly routing: RoutingService,
  ) {}

  list(): Promise<Product[]> {
    return this.products.find({ order: { id: 'ASC' } });
  }

  async get(id: number): Promise<Product> {
    const product = await this.products.findOneBy({ id });
    if (!product) throw new NotFoundException(`No product ${id}.`);
    return product;
  }

  /**
   * A GET that writes. The UPDATE goes to the primary and (greedy mode) pins the set, so the
   * read after it is on the primary too and sees the new count: no need to know that here.
   * In strict mode this UPDATE throws UnpinnedWriteError before any SQL is sent.
   */
  async view(id: number): Promise<Product> {
    const { affected } = await this.products.increment({ id }, 'views', 1);
    if (!affected) throw new NotFoundException(`No product ${id}.`);
    return this.get(id);
  }

  /** Adds `quantity` to the stock, then reads the product back: on the primary, which the UPDATE (or the request) pinned. */
  async restock(id: number, quantity: number): Promise<Product> {
    if (quantity < 1) throw new BadRequestException(`Restock at least 1 (got ${quantity}).`);
    const { affected } = await this.products.increment({ id }, 'stock', quantity);
    if (!affected) throw new NotFoundException(`No product ${id}.`);
    return this.get(id);
  }

  /**
   * The newest and the most viewed products, counting an impression for the newest. The
   * handler has @UseReplica(), so both reads stay on replicas although the UPDATE pinned the set:
   * a feed can be a second behind. The UPDATE is wrapped in usePrimary, which is how a write
   * is allowed on an unpinned set in strict mode; in greedy mode it changes nothing.
   */
  async feed(): Promise<{ newest: Product[]; popular: Product[] }> {
    const newest = await this.products.find({ order: { createdAt: 'DESC', id: 'DESC' }, take: 3 });
    if (newest.length > 0) {
      await this.routing.usePrimary(() => this.products.increment({ id: In(newest.map((p) => p.id)) }, 'impressions', 1));
    }
    const popular = await this.products.find({ order: { views: 'DESC', id: 'ASC' }, take: 3 });
    return { newest, popular };
  }
}
