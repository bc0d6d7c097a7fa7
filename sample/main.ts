// npm start: a small shop on nestjs-pindb, over a primary and two streaming replicas on loopback.
// The shop itself starts in bootstrap.ts.
import { register } from 'node:module';

// ts-node's ESM resolver cannot resolve NestJS 12's deep imports (see ts-node-nest.hook.mjs).
// The fix must be in place before Nest is loaded, hence the dynamic import after it.
register('./ts-node-nest.hook.mjs', import.meta.url);
const { bootstrap } = await import('./bootstrap.js');

bootstrap().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
