import { Controller, Get, Query, UseFilters } from '@nestjs/common';
import { Pin, RoutingService } from '../../lib/index.js';
import { ClsNotesService, type Mode } from './cls-notes.service.js';
import { RefusalFilter } from './cls-probe.controller.js';

/** Strict mode's ways to let a GET's @Transactional method write: @Pin on the handler, or usePrimary around the call. */
@Controller('strict')
@UseFilters(RefusalFilter)
export class ClsStrictController {
  constructor(
    private readonly notes: ClsNotesService,
    private readonly routing: RoutingService,
  ) {}

  @Get('create')
  @Pin()
  async create(@Query('text') text: string) {
    const tx = await this.notes.create(text);
    return { tx, after: await this.notes.where(), pinned: this.routing.isPinned() };
  }

  @Get('outer')
  @Pin()
  outer(@Query('mode') mode: Mode, @Query('text') text: string, @Query('failOuter') failOuter?: string) {
    return this.notes.outer(text, mode, false, failOuter === '1');
  }

  @Get('use-primary-create')
  async usePrimaryCreate(@Query('text') text: string) {
    const tx = await this.routing.usePrimary(() => this.notes.create(text));
    return { tx, after: await this.notes.where(), pinned: this.routing.isPinned() };
  }
}
