import { Body, Controller, Get, Injectable, Param, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import { Note } from './entities.js';
import { NotesService, readPort } from './probe.js';

/** A job that runs after the request that enqueued it, in its own context, on the token it was given. */
@Injectable()
export class NoteJobs {
  readonly results: { found: boolean; port: number }[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
  ) {}

  enqueue(id: number, token: string | undefined): Promise<void> {
    return new Promise((resolve) =>
      setImmediate(() =>
        this.routing
          .run(
            async () => {
              const found = (await this.dataSource.getRepository(Note).findOneBy({ id })) !== null;
              this.results.push({ found, port: await readPort(this.dataSource) });
            },
            { token },
          )
          .then(resolve),
      ),
    );
  }
}

/** Writes a note; reads it back with the port of the server that answered. */
@Controller('notes')
export class NotesController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notes: NotesService,
    private readonly routing: RoutingService,
    private readonly jobs: NoteJobs,
  ) {}

  @Post()
  async create(@Body() body: { text?: string }) {
    return { id: (await this.notes.write(body.text ?? 'hello')).id };
  }

  /** Writes, then hands a job the context's token: the job must see the note. */
  @Post('with-job')
  async createWithJob(@Body() body: { withToken?: boolean }) {
    const { id } = await this.notes.write('for a job');
    await this.jobs.enqueue(id, body.withToken === false ? undefined : await this.routing.token());
    return { id, job: this.jobs.results.at(-1) };
  }

  @Get('probe')
  async probe() {
    return { port: await readPort(this.dataSource), stats: this.routing.stats() };
  }

  @Get(':id')
  async read(@Param('id') id: string) {
    const note = await this.dataSource.getRepository(Note).findOneBy({ id: Number(id) });
    return { found: note !== null, port: await readPort(this.dataSource), stats: this.routing.stats() };
  }
}
