import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { NoDatabaseAvailableError, PinDbHealthMonitor } from '../../lib/index.js';
import { serverFailure } from '../../lib/health/server-failure.js';
import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import { FAST_HEALTH, healthRounds } from '../support/failover.js';
import { NotesService, ProbeController } from '../support/probe.js';
import { StatementLog } from '../support/statement-log.js';
import { clusterApp } from '../support/test-app.js';
import { describeWithFaults, uniqueName } from '../support/test-cluster.js';
import { Note } from '../support/entities.js';

/** The statement runs this long: the test must be over well before, while the primary is still frozen. */
const SLEEP_SECONDS = 30;

// A frozen primary (SIGSTOP, or a network that drops packets) answers nothing, and the kernel
// keeps its TCP connections open: a statement already sent waits as long as it stays frozen.
describeWithFaults('a frozen primary with a statement in flight', () => {
  const log = new StatementLog();
  const env = clusterApp('express', () => ({
    pindb: { health: FAST_HEALTH, typeorm: { entities: [Note], synchronize: true, retryAttempts: 0, logger: log } },
    controllers: [ProbeController],
    providers: [NotesService],
  }));
  afterEach(() => env.cluster.thawPrimary());

  /** The primary's backends running a statement that contains `marker` (the asking one's text holds only $1). */
  const backendsRunning = async (marker: string) =>
    (
      await env.cluster.query<{ pid: number }>('primary', "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND position($1 in query) > 0", [marker])
    ).map((row) => row.pid);

  it(
    'fails once the health check finds the primary down, while it is still frozen and long before the statement would end; it is not re-sent',
    async () => {
      const app = env.app.app;
      const primary = app.get(PinDbRouter).forSet('default').primary;
      const dataSource = app.get<DataSource>(getDataSourceToken());
      const marker = uniqueName('frozen_primary');
      log.clear();

      const outcome = dataSource.query(`SELECT pg_sleep(${SLEEP_SECONDS}) AS "${marker}"`).then(
        () => 'answered' as const,
        (error: unknown) => error,
      );
      let sleeping: number[] = [];
      while (sleeping.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        sleeping = await backendsRunning(marker);
      }
      expect(primary.connections.size).toBeGreaterThanOrEqual(1);
      expect(primary.up).toBe(true);

      await env.cluster.freezePrimary();
      const error = await outcome;

      // Still frozen here: only the cut could have ended the wait.
      expect(primary.up).toBe(false);
      expect(primary.connections.size).toBe(0);
      const report = app
        .get(PinDbHealthMonitor)
        .report()
        .find((set) => set.set === 'default')!;
      expect(report.primary).toMatchObject({ up: false, error: expect.any(String) });
      expect(error).toBeInstanceOf(Error);
      // A lost connection, however the query runner words it.
      const lost = error instanceof NoDatabaseAvailableError ? error.cause : error;
      expect(serverFailure(lost)).toBe('unreachable');

      await env.cluster.thawPrimary();
      await healthRounds(app, 2);
      expect(primary.up).toBe(true);
      // Sent once: the one backend still sleeping is the original (a cut client does not stop pg_sleep).
      expect(log.statements.filter((sql) => sql.includes(marker))).toHaveLength(1);
      expect(await backendsRunning(marker)).toEqual(sleeping);
      await env.cluster.query('primary', 'SELECT pg_terminate_backend($1)', [sleeping[0]]);
    },
    (SLEEP_SECONDS - 5) * 1000,
  );
});
