import { createRequire } from 'node:module';

/**
 * The route path that matches every request, for the middleware that opens each request's
 * context. NestJS 11 moved to path-to-regexp 8, where a wildcard must be named (`{*path}`); NestJS
 * 10 only knows the bare `*`, and rejects the named form. The installed @nestjs/core says which.
 */
export function everyRoutePath(nestCoreVersion = installedNestCoreVersion()): string {
  return Number.parseInt(nestCoreVersion, 10) >= 11 ? '{*path}' : '*';
}

function installedNestCoreVersion(): string {
  return (createRequire(import.meta.url)('@nestjs/core/package.json') as { version: string }).version;
}
