import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgClusterError, PgClusterOptions, startPgCluster } from '../../lib/testing/index.js';

describe('startPgCluster: bad input', () => {
  // Clusters make their directories under os.tmpdir(), which follows TMPDIR: a private one shows leftovers.
  let privateTmp: string;
  const originalTmp = process.env.TMPDIR;
  beforeEach(() => {
    privateTmp = mkdtempSync(join(tmpdir(), 'pindb-bad-input-'));
    process.env.TMPDIR = privateTmp;
  });
  afterEach(() => {
    process.env.TMPDIR = originalTmp;
    if (originalTmp === undefined) delete process.env.TMPDIR;
    rmSync(privateTmp, { recursive: true, force: true });
  });

  const rejects = async (options: unknown, message: RegExp) => {
    const error = await startPgCluster(options as PgClusterOptions).then(
      (cluster) => cluster.stop().then(() => undefined),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PgClusterError);
    expect((error as Error).message).toMatch(message);
    expect(readdirSync(privateTmp)).toEqual([]);
  };

  it('names an unknown option and lists the known ones', () => rejects({ replica: 2 }, /Unknown startPgCluster option "replica".*replicas/));

  it('rejects a negative or fractional replica count', async () => {
    await rejects({ replicas: -1 }, /replicas must be a whole number ≥ 0 \(got -1\)/);
    await rejects({ replicas: 1.5 }, /replicas must be a whole number/);
  });

  it('rejects a negative applyDelayMs', () => rejects({ applyDelayMs: -5 }, /applyDelayMs must be/));

  it('rejects a bin directory without the binaries and says what it must hold', async () => {
    const empty = mkdtempSync(join(originalTmp ?? '/tmp', 'not-a-bin-dir-'));
    try {
      await rejects({ binDir: empty }, /No initdb in .*not-a-bin-dir-.*: binDir \(or PINDB_PG_BIN\) must be a PostgreSQL bin directory/);
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  it('names a port in use and the fix, and starts nothing', async () => {
    const blocker: Server = await new Promise((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
    const port = (blocker.address() as { port: number }).port;
    try {
      // basePort is the primary's: the port in use is the first one checked. (port - 1 for the primary
      // and port for replica 0 was flaky: another spec's cluster may hold port - 1.)
      await rejects({ replicas: 1, basePort: port }, new RegExp(`Port ${port} \\(primary\\) on 127.0.0.1 is in use: .*omit basePort`));
    } finally {
      blocker.close();
    }
  });

  it('names an OS user that does not exist when running as root', async () => {
    if (process.getuid?.() !== 0) {
      // Not root: the servers run as the current user and osUser is not consulted.
      const cluster = await startPgCluster({ replicas: 0, osUser: 'no-such-user-pindb' });
      await cluster.stop();
      return;
    }
    await rejects({ replicas: 0, osUser: 'no-such-user-pindb' }, /"no-such-user-pindb" does not exist: create it/);
  });
});
