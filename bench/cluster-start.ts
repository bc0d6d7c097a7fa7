// Median time to start and to stop a primary + 2 replicas cluster, over 5 runs.
// Run: npm run bench:cluster-start   (goal: start under 10 s on the 2-core machine)
import { startPgCluster } from '../lib/testing/index.js';
import { median, ms } from './stats.js';

const RUNS = Number(process.env.RUNS ?? 5);

async function main(): Promise<void> {
  const starts: number[] = [];
  const stops: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const t0 = performance.now();
    const cluster = await startPgCluster({ replicas: 2 });
    const t1 = performance.now();
    await cluster.stop();
    const t2 = performance.now();
    starts.push(t1 - t0);
    stops.push(t2 - t1);
    console.log(`run ${run}: start ${ms(t1 - t0)}, stop ${ms(t2 - t1)}`);
  }
  console.log(`\n1 primary + 2 replicas, ${RUNS} runs: median start ${ms(median(starts))} (goal < 10000 ms), median stop ${ms(median(stops))}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
