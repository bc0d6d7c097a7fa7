import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity.js';

export interface OrderLine {
  productId: number;
  quantity: number;
  priceCents: number;
}

// "order" is an SQL keyword: a plain table name saves quoting in hand-written SQL.
@Entity('orders')
export class Order {
  @PrimaryGeneratedColumn()
  id!: number;

  // One-way relation: User does not point back, so the two ES modules do not import each other.
  @ManyToOne(() => User, { nullable: false })
  @JoinColumn({ name: 'userId' })
  user?: User;

  @Column()
  userId!: number;

  @Column('jsonb')
  lines!: OrderLine[];

  @Column('int')
  totalCents!: number;

  @CreateDateColumn()
  createdAt!: Date;
}
