import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startPgCluster } from '../../lib/testing/index.js';
import { anyServerAlive, ClusterFootprint, clusterFootprint } from '../support/cluster-processes.js';
import { describeWithFaults } from '../support/test-cluster.js';

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Runs the fixture in its own Node process and resolves with the cluster it started. */
function startInChild(mode: 'wait' | 'exit') {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      '--loader',
      'ts-node/esm/transpile-only',
      join(import.meta.dirname, '../fixtures/start-cluster-then-wait.ts'),
      mode,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const footprint = new Promise<ClusterFootprint>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
    });
    child.on('exit', (code) => reject(new Error(`fixture exited (${code}) before starting its cluster`)));
  });
  return { child, footprint };
}

describeWithFaults('stop() and leftovers', () => {
  it('stop() leaves no server process and no directory; a second stop() is harmless', async () => {
    const cluster = await startPgCluster({ replicas: 2 });
    const footprint = await clusterFootprint(cluster);
    expect(existsSync(footprint.baseDir)).toBe(true);
    expect(anyServerAlive(footprint)).toBe(true);

    await cluster.stop();
    expect(anyServerAlive(footprint)).toBe(false);
    expect(existsSync(footprint.baseDir)).toBe(false);
    await expect(cluster.stop()).resolves.toBeUndefined();
    await expect(cluster.query('primary', 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('stop() also cleans up a frozen and a killed replica', async () => {
    const cluster = await startPgCluster({ replicas: 2 });
    const footprint = await clusterFootprint(cluster);
    await cluster.freezeReplica(0);
    await cluster.killReplica(1);
    await cluster.stop();
    expect(anyServerAlive(footprint)).toBe(false);
    expect(existsSync(footprint.baseDir)).toBe(false);
  });

  it('a process that exits without stop() leaves nothing behind', async () => {
    const { footprint } = startInChild('exit');
    const started = await footprint;
    expect(await eventually(() => !anyServerAlive(started) && !existsSync(started.baseDir))).toBe(true);
  });

  it('a process killed with SIGKILL (an interrupted jest worker) leaves nothing behind', async () => {
    const { child, footprint } = startInChild('wait');
    const started = await footprint;
    expect(anyServerAlive(started)).toBe(true);
    child.kill('SIGKILL');
    expect(await eventually(() => !anyServerAlive(started) && !existsSync(started.baseDir))).toBe(true);
  });

  it('two clusters run at once, on different ports and directories', async () => {
    const [a, b] = await Promise.all([startPgCluster({ replicas: 1 }), startPgCluster({ replicas: 1 })]);
    try {
      const ports = [a.primary.port, ...a.replicas.map((r) => r.port), b.primary.port, ...b.replicas.map((r) => r.port)];
      expect(new Set(ports).size).toBe(4);
      await a.query('primary', 'CREATE TABLE only_in_a (id int)');
      await expect(b.query('primary', 'SELECT * FROM only_in_a')).rejects.toMatchObject({ code: '42P01' });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
