import { Args, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Product } from './product.entity.js';
import { ProductsService } from './products.service.js';

/**
 * POST /graphql, code-first (Apollo). Every GraphQL request is a POST, yet nestjs-pindb routes it
 * by what it sends: a request of queries only like a GET, one with a mutation like a POST.
 */
@Resolver(() => Product)
export class ProductsResolver {
  constructor(private readonly catalog: ProductsService) {}

  /** `{ products { … } }`: a request of queries only is not pinned: its read goes to a replica, and it hands out no token. */
  @Query(() => [Product], { name: 'products' })
  list(): Promise<Product[]> {
    return this.catalog.list();
  }

  /**
   * `mutation { restock(…) { … } }`: pinned from the request's start, so the UPDATE and the read
   * after it run on the primary, and the response hands out the read-your-writes token (cookie
   * pindb, header x-pindb-token): the client's next query reads the new stock, lag or not.
   */
  @Mutation(() => Product)
  restock(@Args('productId', { type: () => Int }) productId: number, @Args('quantity', { type: () => Int }) quantity: number): Promise<Product> {
    return this.catalog.restock(productId, quantity);
  }
}
