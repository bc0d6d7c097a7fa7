import {
  Between,
  Column,
  CreateDateColumn,
  DataSource,
  DeleteDateColumn,
  Entity,
  ILike,
  In,
  IsNull,
  LessThan,
  Like,
  ManyToOne,
  MoreThan,
  Not,
  OneToMany,
  PrimaryGeneratedColumn,
  Raw,
  VersionColumn,
} from 'typeorm';
import type { Logger } from 'typeorm';
import type { PgConnectionOptions } from '../../lib/testing/index.js';
import type { CorpusStatement } from './classifier-corpus.js';

@Entity()
export class OracleAuthor {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  name!: string;

  @CreateDateColumn()
  createdAt!: Date;

  @OneToMany(() => OracleBook, (book) => book.author)
  books!: OracleBook[];
}

@Entity()
export class OracleBook {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  title!: string;

  @Column('int', { default: 0 })
  stock!: number;

  @Column('simple-array', { nullable: true })
  tags!: string[] | null;

  @ManyToOne(() => OracleAuthor, (author) => author.books, { nullable: true })
  author!: OracleAuthor | null;

  @VersionColumn()
  version!: number;

  @DeleteDateColumn()
  deletedAt!: Date | null;
}

/** Keeps every statement TypeORM sends, with its parameters. */
class CapturingLogger implements Logger {
  readonly statements: CorpusStatement[] = [];
  logQuery(sql: string, params?: unknown[]): void {
    this.statements.push(params && params.length > 0 ? { sql, params } : { sql });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/**
 * The SQL TypeORM generates for repositories and query builders (and for synchronizing its
 * schema), run once on the primary to capture it. The tables are left for the replica to replay.
 */
export async function typeormCorpus(primary: PgConnectionOptions): Promise<CorpusStatement[]> {
  const logger = new CapturingLogger();
  const dataSource = new DataSource({
    type: 'postgres',
    host: primary.host,
    port: primary.port,
    username: primary.username,
    password: primary.password,
    database: primary.database,
    entities: [OracleAuthor, OracleBook],
    synchronize: true,
    logging: true,
    logger,
  });
  await dataSource.initialize();
  try {
    const authors = dataSource.getRepository(OracleAuthor);
    const books = dataSource.getRepository(OracleBook);
    const [ann, bob] = await authors.save([{ name: 'ann' }, { name: 'bob' }]);
    await books.save([
      { title: 'one', stock: 1, tags: ['a', 'b'], author: ann },
      { title: 'two', stock: 2, author: ann },
      { title: 'three', stock: 3, author: bob },
    ]);
    await books.insert({ title: 'four', stock: 4 });

    await authors.find();
    await authors.findOneBy({ id: ann.id });
    await authors.findOne({ where: { id: ann.id }, relations: { books: true } });
    await books.findBy({ id: In([1, 2]) });
    await books.find({ where: { title: Like('%o%') }, order: { id: 'DESC' }, skip: 1, take: 2 });
    await books.find({ relations: { author: true }, skip: 1, take: 2, order: { id: 'ASC' } });
    await books.find({ where: [{ title: ILike('T%') }, { stock: MoreThan(1) }] });
    await books.find({ where: { stock: Between(1, 3), deletedAt: IsNull(), title: Not('x') } });
    await books.find({ where: { stock: Raw((alias) => `${alias} > :min`, { min: 1 }) } });
    await books.find({ where: { stock: LessThan(10) }, select: { id: true, title: true }, withDeleted: true });
    await books.findAndCount({ where: { author: { name: 'ann' } }, relations: { author: true } });
    await books.count();
    await books.countBy({ stock: MoreThan(0) });
    await books.exists({ where: { title: 'one' } });
    await books.sum('stock');
    await books.average('stock', { title: Not('x') });
    await books.minimum('stock');
    await books.maximum('stock');

    const query = () => books.createQueryBuilder('b').leftJoinAndSelect('b.author', 'a');
    await query().where('a.name = :name', { name: 'ann' }).orderBy('b.id').getMany();
    await query().where('b.stock > :stock', { stock: 1 }).skip(1).take(1).getManyAndCount();
    await books.createQueryBuilder('b').select('COUNT(*)', 'count').addSelect('MAX(b.stock)', 'max').getRawOne();
    await books
      .createQueryBuilder('b')
      .where((qb) => `b.stock > ${qb.subQuery().select('AVG(x.stock)').from(OracleBook, 'x').getQuery()}`)
      .getMany();
    await books.createQueryBuilder('b').distinctOn(['b.stock']).orderBy('b.stock').getRawMany();
    await books.createQueryBuilder('b').select('b.title').groupBy('b.title').having('COUNT(*) > :n', { n: 0 }).getRawMany();
    await dataSource.createQueryBuilder().select('1', 'one').fromDummy().getRawOne();

    await dataSource.transaction(async (manager) => {
      const locked = manager.getRepository(OracleBook).createQueryBuilder('b').where('b.id = :id', { id: 1 });
      await locked.clone().setLock('pessimistic_read').getOne();
      await locked.clone().setLock('pessimistic_write').getOne();
      await locked.clone().setLock('pessimistic_write').setOnLocked('skip_locked').getOne();
      await locked.clone().setLock('pessimistic_write').setOnLocked('nowait').getOne();
      await locked.clone().setLock('for_no_key_update').getOne();
      await locked.clone().setLock('for_key_share').getOne();
      await manager.getRepository(OracleBook).findOne({ where: { id: 1 }, lock: { mode: 'pessimistic_write' } });
    });

    await books.createQueryBuilder().insert().into(OracleBook).values({ title: 'five' }).orIgnore().execute();
    await books
      .createQueryBuilder()
      .update(OracleBook)
      .set({ stock: () => 'stock + 1' })
      .where('id = :id', { id: 1 })
      .execute();
    await books.createQueryBuilder().delete().from(OracleBook).where('title = :t', { t: 'nothing' }).execute();
    await books.update({ id: 2 }, { title: 'two again' });
    await books.increment({ id: 1 }, 'stock', 2);
    await books.decrement({ id: 1 }, 'stock', 1);
    await books.upsert({ id: 1, title: 'one again' }, ['id']);
    await books.softDelete({ id: 3 });
    await books.restore({ id: 3 });
    const removable = await books.save({ title: 'gone' });
    await books.remove(removable);
    await books.delete({ title: 'nothing' });
    await authors.save({ id: bob.id, name: 'bobby' });
    await dataSource.query('SELECT b.id FROM oracle_book b WHERE b.title = $1', ['one']);
  } finally {
    await dataSource.destroy();
  }
  return logger.statements;
}
