// ESM resolve hook for the bench scripts, chained in front of ts-node's loader:
//   node --loader ts-node/esm/transpile-only --loader ./bench/nest-exports-loader.mjs bench/x.ts
// ts-node 10's ESM resolver is an old copy of Node's and knows only subpath patterns that END in
// `*`. NestJS 12 packages export { "./*.js": "./*.js", "./*": "./*.js" }, and import each other
// by full path (`@nestjs/common/pipes/validation.pipe.js`), which ts-node then maps through
// "./*" to `validation.pipe.js.js`: not found. Retrying without the `.js` lands on the same file.
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const bare = !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.includes(':');
    // (ts-node's error has no code to test: the specifier is enough.)
    if (bare && specifier.endsWith('.js')) {
      return nextResolve(specifier.slice(0, -3), context);
    }
    throw error;
  }
}
