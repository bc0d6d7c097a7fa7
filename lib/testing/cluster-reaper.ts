import { ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Makes sure a cluster's servers and directory do not outlive the process that started it, however
 * that process ends: a forgotten stop(), a failed test, Ctrl-C, or a SIGKILL of a jest worker.
 *
 * A small shell process holds the read end of a pipe from us. When we die, the kernel closes the write
 * end, `read` returns, and the shell kills every server's postmaster and its children (thawing
 * frozen ones first) and removes the directory. A normal stop() kills the reaper before it does anything.
 */
const REAP_SCRIPT = `
read _ignored
for pidfile in "$1"/*/postmaster.pid; do
  [ -f "$pidfile" ] || continue
  pm=$(head -n 1 "$pidfile")
  [ -n "$pm" ] || continue
  kids=$( (ps -A -o pid=,ppid= 2>/dev/null || for s in /proc/[0-9]*/stat; do cut -d' ' -f1,4 "$s" 2>/dev/null; done) | awk -v pm="$pm" '$2 == pm { print $1 }')
  kill -CONT "$pm" $kids 2>/dev/null
  kill -KILL "$pm" $kids 2>/dev/null
done
rm -rf "$1"
`;

const live = new Set<ClusterReaper>();
let exitHookInstalled = false;

export class ClusterReaper {
  private readonly child: ChildProcess;

  constructor(
    private readonly baseDir: string,
    private readonly killServersNow: () => void,
  ) {
    this.child = spawn('sh', ['-c', REAP_SCRIPT, 'pindb-cluster-reaper', baseDir], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.child.on('error', () => undefined);
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    live.add(this);
    installExitHook();
  }

  /** The cluster was stopped normally: the reaper has nothing left to do. */
  dismiss(): void {
    live.delete(this);
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Synchronous cleanup at process exit, so that nothing is left even for a moment. */
  reapNow(): void {
    this.killServersNow();
    rmSync(this.baseDir, { recursive: true, force: true });
    this.dismiss();
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const reaper of [...live]) reaper.reapNow();
  });
}
