// A module resolve hook chained after ts-node's by the npm scripts that run TypeScript (start, bench:*):
//   node --loader ts-node/esm/transpile-only --loader ./sample/ts-node-nest.hook.mjs sample/main.ts
//
// ts-node 10's ESM resolver is an old copy of Node's that knows only export patterns ENDING in
// `*`. NestJS 12 packages export { "./*.js": "./*.js", "./*": "./*.js" } and import each other by
// full path (`@nestjs/common/pipes/validation.pipe.js`), which ts-node maps through "./*" to
// `validation.pipe.js.js`: not found. Retrying without the `.js` lands on the right file.
// Apps compiled with tsc (or run with a newer loader) do not need this.
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const bare = !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.includes(':');
    if (bare && specifier.endsWith('.js')) return nextResolve(specifier.slice(0, -3), context);
    throw error;
  }
}
