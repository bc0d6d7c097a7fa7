import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity()
export class Product {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  name!: string;

  /** Money in whole cents: PostgreSQL numeric comes back as a string, an int does not. */
  @Column('int')
  priceCents!: number;

  @Column('int')
  stock!: number;

  /** Bumped by GET /products/:id/view: a GET that writes. */
  @Column('int', { default: 0 })
  views!: number;

  /** Bumped by GET /feed for the products it shows. */
  @Column('int', { default: 0 })
  impressions!: number;

  @CreateDateColumn()
  createdAt!: Date;
}
