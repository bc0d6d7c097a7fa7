import { Controller, Delete, Get, Injectable, Patch, Post, Put } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import { Note } from './entities.js';

/** The port of the server that answers a read built by TypeORM's query builder. */
export async function readPort(source: DataSource | EntityManager): Promise<number> {
  const row = await source.createQueryBuilder().select('inet_server_port()', 'port').fromDummy().getRawOne();
  return Number(row.port);
}

/** Writes a note through the repository (a transaction on the primary). */
@Injectable()
export class NotesService {
  constructor(@InjectRepository(Note) readonly notes: Repository<Note>) {}

  write(text = 'note'): Promise<Note> {
    return this.notes.save(this.notes.create({ text }));
  }
}

/** Endpoints whose answers say which server served their reads, and what the context looked like. */
@Controller('probe')
export class ProbeController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notes: NotesService,
    private readonly routing: RoutingService,
  ) {}

  private async answer() {
    return { port: await readPort(this.dataSource), pinned: this.routing.isPinned(), stats: this.routing.stats() };
  }

  @Get('read')
  read() {
    return this.answer();
  }

  @Post('read')
  postRead() {
    return this.answer();
  }

  @Put('read')
  putRead() {
    return this.answer();
  }

  @Patch('read')
  patchRead() {
    return this.answer();
  }

  @Delete('read')
  deleteRead() {
    return this.answer();
  }

  /** A GET that writes: greedy mode pins the set for the rest of the request. */
  @Get('write-then-read')
  async writeThenRead() {
    const pinnedBefore = this.routing.isPinned();
    await this.notes.write('from a GET');
    return { pinnedBefore, ...(await this.answer()) };
  }

  @Get('finds')
  async finds() {
    await this.notes.notes.find();
    await this.notes.notes.findOneBy({ id: 1 });
    await this.notes.notes.count();
    return this.answer();
  }

  /** dataSource.query() goes to the primary; a plain SELECT there does not pin. */
  @Get('raw-select')
  async rawSelect() {
    const [row] = await this.dataSource.query('SELECT inet_server_port() AS port');
    return { rawPort: Number(row.port), ...(await this.answer()) };
  }

  @Get('transaction')
  async transaction() {
    const inside = await this.dataSource.transaction((manager) => readPort(manager));
    return { inside, ...(await this.answer()) };
  }
}
