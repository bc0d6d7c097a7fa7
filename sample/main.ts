// npm start: a primary and two streaming replicas on loopback, until Ctrl-C.
import { startPgCluster } from '../lib/testing/index.js';

async function main(): Promise<void> {
  const cluster = await startPgCluster({ replicas: 2 });
  console.log(`primary    ${cluster.primary.url}`);
  cluster.replicas.forEach((replica, i) => console.log(`replica ${i}  ${replica.url}`));
  console.log('Streaming. Ctrl-C stops the cluster and removes its files.');
  const stop = () => cluster.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
