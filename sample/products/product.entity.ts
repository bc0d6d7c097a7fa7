import { Field, Int, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A TypeORM entity, and the GraphQL type `Product` (code-first) of the fields marked @Field. */
@Entity()
@ObjectType()
export class Product {
  @PrimaryGeneratedColumn()
  @Field(() => Int)
  id!: number;

  @Column()
  @Field()
  name!: string;

  /** Money in whole cents: PostgreSQL numeric comes back as a string, an int does not. */
  @Column('int')
  @Field(() => Int)
  priceCents!: number;

  @Column('int')
  @Field(() => Int)
  stock!: number;

  /** Bumped by GET /products/:id/view: a GET that writes. */
  @Column('int', { default: 0 })
  @Field(() => Int)
  views!: number;

  /** Bumped by GET /feed for the products it shows. */
  @Column('int', { default: 0 })
  impressions!: number;

  @CreateDateColumn()
  createdAt!: Date;
}
