/** The table both benches read, and how to fill it. */
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PgCluster } from '../lib/testing/index.js';

export const ROWS = 1000;

@Entity({ name: 'bench_item' })
export class BenchItem {
  @PrimaryColumn()
  id!: number;

  @Column()
  name!: string;

  @Column()
  price!: number;
}

/** Creates bench_item with ROWS rows on the primary and waits until every replica has replayed it. */
export async function seedBenchItems(cluster: PgCluster): Promise<void> {
  await cluster.query('primary', 'CREATE TABLE bench_item (id integer PRIMARY KEY, name text NOT NULL, price integer NOT NULL)');
  await cluster.query('primary', `INSERT INTO bench_item SELECT g, 'item ' || g, g * 7 % 1000 FROM generate_series(1, ${ROWS}) g`);
  await cluster.query('primary', 'ANALYZE bench_item');
  await cluster.waitForReplay();
}

/** The i-th id of the read sequence: the same, spread-out sequence for every variant. */
export function nthId(i: number): number {
  return ((i * 7919) % ROWS) + 1;
}
