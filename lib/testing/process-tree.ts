import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/*
 * PostgreSQL backends call setsid(), so a signal to the postmaster's process group does not reach
 * them: a server's processes are found as the postmaster's children instead. Zombies do not count
 * as alive: a backend orphaned by a killed postmaster is reparented to init, and some containers'
 * init never reaps it.
 */

const hasProc = existsSync('/proc/self/stat');

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
}

/** The pids of `pid`'s live children. */
export function childPids(pid: number): number[] {
  if (!hasProc) return childPidsFromPs(pid);
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat && stat.ppid === pid && !isDead(stat.state)) children.push(stat.pid);
  }
  return children;
}

/** Whether `pid` is a live (non-zombie) process. */
export function processAlive(pid: number): boolean {
  if (hasProc) {
    const stat = readStat(String(pid));
    return stat !== undefined && !isDead(stat.state);
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to each pid, ignoring the ones already gone. */
export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function isDead(state: string): boolean {
  return state === 'Z' || state === 'X';
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), state: fields[0], ppid: Number(fields[1]) };
  } catch {
    return undefined; // exited while we looked
  }
}

function childPidsFromPs(pid: number): number[] {
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, ppid, stat]) => Number(ppid) === pid && stat && !stat.startsWith('Z'))
    .map(([child]) => Number(child));
}
