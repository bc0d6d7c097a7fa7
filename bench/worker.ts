/**
 * Benches run each variant in its own child process (this file's helpers), so that one variant's
 * process-wide state (AsyncLocalStorage's promise hooks, JIT feedback, pools) cannot tax another.
 * The parent drives them one at a time, so no two variants ever compete for the CPU.
 */
import { ChildProcess, fork } from 'node:child_process';

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
    // execArgv is inherited: the child runs under the same ts-node loader. BENCH_CPU_PROF=dir writes
    // V8 CPU profiles of each child into dir/<name>/ when it exits (open them in Chrome DevTools).
    // (One directory per worker: the loader thread writes a profile of its own.)
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/${name}`] : [];
    const child = fork(file, args, {
      env: { ...process.env, ...env },
      execArgv: [...process.execArgv, ...profile],
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
  process.on('message', async (raw) => {
    const { id, command, argument } = raw as { id: number; command: string; argument: unknown };
    try {
      const handler = handlers[command];
      if (!handler && command !== 'stop') throw new Error(`unknown command ${command}`);
      const result = handler ? await handler(argument) : undefined;
      if (command === 'stop') process.send!({ id, result: null }, () => process.exit(0));
      else process.send!({ id, result: result ?? null });
    } catch (error) {
      process.send!({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
}
