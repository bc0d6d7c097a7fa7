import { DataSource } from 'typeorm';
import { Product } from './products/product.entity.js';
import { User } from './users/user.entity.js';

/**
 * Runs at bootstrap, outside any request: no pinning context, so nothing is pinned or counted
 * and the writes simply go to the primary (strict mode is not enforced outside a context).
 */
export async function seed(dataSource: DataSource): Promise<void> {
  await dataSource.getRepository(Product).save([
    { name: 'Espresso cup', priceCents: 900, stock: 40 },
    { name: 'Moka pot', priceCents: 3500, stock: 12 },
    { name: 'Burr grinder', priceCents: 12900, stock: 5 },
    { name: 'Coffee beans, 1 kg', priceCents: 2400, stock: 100 },
    { name: 'Milk frother', priceCents: 4500, stock: 3 },
  ]);
  await dataSource.getRepository(User).save([
    { name: 'Ada', email: 'ada@example.com' },
    { name: 'Linus', email: 'linus@example.com' },
  ]);
}
