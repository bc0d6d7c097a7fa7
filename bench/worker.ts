/**
 * Benches run each variant in its own child process (this file's helpers), so that one variant's
 * process-wide state (AsyncLocalStorage's promise hooks, JIT feedback, pools) cannot tax another.
 * The parent drives them one at a time, so no two variants ever compete for the CPU.
 */
import { ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

type Message = { id: number; result?: unknown; error?: string };

export class BenchWorker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (raw) => {
      const message = raw as Message;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(`${name}: ${message.error}`));
      else waiter.resolve(message.result);
    });
    child.on('exit', (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  /** Forks `file` with `args`; resolves with the worker and what its setup returned. */
  static async start<T = unknown>(name: string, file: string, args: string[], env: Record<string, string> = {}): Promise<[BenchWorker, T]> {
    // execArgv is inherited: the child runs under the same ts-node loader. With BENCH_CPU_PROF=dir,
    // each child writes a V8 CPU profile, from the end of its setup to its stop, to dir/<name>.cpuprofile;
    // with BENCH_HEAP_PROF=dir, a sampling profile of what it allocated meanwhile, to dir/<name>.heapprofile.
    const child = fork(file, args, {
      env: { ...process.env, ...env, BENCH_WORKER_NAME: name },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new BenchWorker(name, child);
    const ready = await worker.call<T>('setup');
    return [worker, ready];
  }

  call<T = unknown>(command: string, argument?: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, command, argument });
    });
  }

  /** Asks the worker to clean up and exit; kills it if it has not within 15 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call('stop').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The child side: answers the parent's commands with `handlers[command](argument)`. `stop` runs
 * `handlers.stop` and exits; losing the parent exits too.
 */
export function serveBenchWorker(handlers: Record<string, (argument: any) => unknown>): void {
  process.on('disconnect', () => process.exit(1));
  const name = process.env.BENCH_WORKER_NAME ?? String(process.pid);
  const { BENCH_CPU_PROF, BENCH_HEAP_PROF } = process.env;
  const profiler = BENCH_CPU_PROF || BENCH_HEAP_PROF ? new Profiler(name, BENCH_CPU_PROF, BENCH_HEAP_PROF) : undefined;
  process.on('message', async (raw) => {
    const { id, command, argument } = raw as { id: number; command: string; argument: unknown };
    try {
      const handler = handlers[command];
      if (!handler && command !== 'stop') throw new Error(`unknown command ${command}`);
      if (command === 'stop') await profiler?.stop();
      const result = handler ? await handler(argument) : undefined;
      if (command === 'setup') await profiler?.start();
      if (command === 'stop') process.send!({ id, result: null }, () => process.exit(0));
      else process.send!({ id, result: result ?? null });
    } catch (error) {
      process.send!({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
}

/**
 * Profiles of the worker's steady state, started once its app is up, so that start-up (module
 * loading, compiling) is not in them: CPU time by function, and allocations by function (sampled).
 */
class Profiler {
  private readonly session = new Session();

  constructor(
    private readonly name: string,
    private readonly cpuDir: string | undefined,
    private readonly heapDir: string | undefined,
  ) {}

  async start(): Promise<void> {
    this.session.connect();
    if (this.cpuDir) {
      await this.session.post('Profiler.enable');
      await this.session.post('Profiler.start');
    }
    if (this.heapDir) {
      await this.session.post('HeapProfiler.enable');
      // Every allocation, also of objects collected since (a request's objects die young).
      await this.session.post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMinorGC: true,
        includeObjectsCollectedByMajorGC: true,
      });
    }
  }

  async stop(): Promise<void> {
    if (this.cpuDir) write(this.cpuDir, `${this.name}.cpuprofile`, (await this.session.post('Profiler.stop')).profile);
    if (this.heapDir) write(this.heapDir, `${this.name}.heapprofile`, (await this.session.post('HeapProfiler.stopSampling')).profile);
    this.session.disconnect();
  }
}

function write(dir: string, file: string, profile: unknown): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), JSON.stringify(profile));
}
