import { ArgumentsHost, Catch, Controller, ExceptionFilter, Get, Post, Query, UseFilters } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TransactionPropagationError } from '@nestjs-cls/transactional';
import { ClsService } from 'nestjs-cls';
import { RoutingService, UnpinnedWriteError } from '../../lib/index.js';
import { REQUEST_ID } from './cls-app.js';
import { ClsNotesService, Mode, PROPAGATIONS } from './cls-notes.service.js';

/** Shows the library's refusals (a propagation rule, strict mode) to the test as a 409 naming the error, instead of a bare 500. */
@Catch(TransactionPropagationError, UnpinnedWriteError)
export class RefusalFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: Error, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    httpAdapter.reply(host.switchToHttp().getResponse(), { error: error.name, message: error.message }, 409);
  }
}

function modeOf(mode: string): Mode {
  if (!(mode in PROPAGATIONS)) throw new Error(`unknown propagation mode ${mode}`);
  return mode as Mode;
}

/** Endpoints whose answers say where each statement of a @Transactional method ran, and what both contexts looked like. */
@Controller('cls')
@UseFilters(RefusalFilter)
export class ClsProbeController {
  constructor(
    private readonly notes: ClsNotesService,
    private readonly routing: RoutingService,
    private readonly cls: ClsService,
  ) {}

  /** This request's nestjs-cls values and PinDb state, read in the handler. */
  private contexts() {
    return {
      clsId: this.cls.getId(),
      requestId: this.cls.get<string>(REQUEST_ID) ?? null,
      pinned: this.routing.isPinned(),
      stats: this.routing.stats(),
    };
  }

  @Get('read')
  async read() {
    const where = await this.notes.where();
    return { where, ...this.contexts() };
  }

  @Get('count')
  async count(@Query('text') text: string) {
    const count = await this.notes.count(text);
    return { count, where: await this.notes.where(), ...this.contexts() };
  }

  @Get('create')
  async create(@Query('text') text: string, @Query('gate') gate?: string) {
    return this.createAndReadBack(text, gate);
  }

  @Post('create')
  async postCreate(@Query('text') text: string) {
    return this.createAndReadBack(text);
  }

  /** The transaction, then the same request reads outside it. */
  private async createAndReadBack(text: string, gate?: string) {
    const tx = await this.notes.create(text, gate);
    const afterCount = await this.notes.count(text);
    return { tx, after: await this.notes.where(), afterCount, ...this.contexts() };
  }

  @Get('read-in-transaction')
  async readInTransaction() {
    const tx = await this.notes.readInTransaction();
    return { tx, after: await this.notes.where(), ...this.contexts() };
  }

  @Get('serializable')
  serializable() {
    return this.notes.serializable();
  }

  @Get('fail')
  fail(@Query('text') text: string) {
    return this.notes.createThenFail(text);
  }

  @Get('outer')
  outer(@Query('mode') mode: string, @Query('text') text: string, @Query('failInner') failInner?: string, @Query('failOuter') failOuter?: string) {
    return this.notes.outer(text, modeOf(mode), failInner === '1', failOuter === '1');
  }

  /** An inner method called with no transaction around it. */
  @Get('alone')
  async alone(@Query('mode') mode: string, @Query('text') text: string) {
    const inner = await this.notes.inner(modeOf(mode), text, false);
    return { inner, after: await this.notes.where(), ...this.contexts() };
  }
}
