// Writes lib/routing/read-only-functions.ts from the catalog of a freshly started server (or of
// PINDB_TEST_PRIMARY_URL's). Run after a PostgreSQL upgrade: npm run generate:read-only-functions
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connectPgCluster, PgCluster, startPgCluster } from '../lib/testing/index.js';
import { READ_ONLY_FUNCTIONS_QUERY, renderReadOnlyFunctions, shortVersion } from './read-only-functions.catalog.js';

const TARGET = fileURLToPath(new URL('../lib/routing/read-only-functions.ts', import.meta.url));

async function main(): Promise<void> {
  const url = process.env.PINDB_TEST_PRIMARY_URL;
  const cluster: PgCluster = url ? connectPgCluster({ primaryUrl: url, replicaUrls: [] }) : await startPgCluster({ replicas: 0 });
  try {
    const names = (await cluster.query<{ name: string }>('primary', READ_ONLY_FUNCTIONS_QUERY)).map((row) => row.name);
    const [{ version }] = await cluster.query<{ version: string }>('primary', 'SELECT version()');
    writeFileSync(TARGET, renderReadOnlyFunctions(names, shortVersion(version)));
    console.log(`${names.length} read-only function names from ${shortVersion(version)} written to lib/routing/read-only-functions.ts`);
  } finally {
    await cluster.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
