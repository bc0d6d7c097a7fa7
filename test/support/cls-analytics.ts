import { Controller, Get, Injectable, Query } from '@nestjs/common';
import { InjectTransactionHost, Transactional, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import { ClsNotesService } from './cls-notes.service.js';

/** The name of the second set (a second database on the same servers), and of its nestjs-cls connection. */
export const ANALYTICS = 'analytics';

@Entity()
export class Visit {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  path!: string;
}

/** Writes through the `analytics` connection of the transactional plugin. */
@Injectable()
export class ClsAnalyticsService {
  constructor(
    @InjectTransactionHost(ANALYTICS) private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly defaultTxHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {}

  @Transactional(ANALYTICS)
  async visit(path: string) {
    await this.txHost.tx.getRepository(Visit).insert({ path });
    const [row] = await this.txHost.tx.query('SELECT inet_server_port() AS port, current_database() AS database');
    return {
      port: Number(row.port),
      database: row.database as string,
      transaction: this.txHost.isTransactionActive(),
      defaultTransaction: this.defaultTxHost.isTransactionActive(),
    };
  }
}

@Controller('cls/analytics')
export class ClsAnalyticsController {
  constructor(
    private readonly analytics: ClsAnalyticsService,
    private readonly notes: ClsNotesService,
    private readonly routing: RoutingService,
  ) {}

  /** An `analytics` transaction, then a read of the `default` set. */
  @Get('visit')
  async visit(@Query('path') path: string) {
    const tx = await this.analytics.visit(path);
    return { tx, pinned: { default: this.routing.isPinned('default'), analytics: this.routing.isPinned(ANALYTICS) }, defaultRead: await this.notes.where() };
  }
}
