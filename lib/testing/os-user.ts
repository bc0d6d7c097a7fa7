import { readFileSync } from 'node:fs';
import { PgClusterError } from './pg-cluster.errors.js';

/** Environment variable naming the unprivileged OS user that runs the servers when Node runs as root. */
export const PG_USER_ENV = 'PINDB_PG_OS_USER';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * PostgreSQL refuses to run as root. As root, the servers run as an unprivileged user (`nobody` unless
 * told otherwise) and own their data directories; otherwise they run as the current user.
 * Returns undefined when no switch is needed.
 */
export function serverOsUser(requested?: string): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = requested ?? process.env[PG_USER_ENV] ?? 'nobody';
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === name);
  if (!entry) {
    throw new PgClusterError(
      `Running as root, the PostgreSQL servers need an unprivileged OS user, and "${name}" does not exist: ` +
        `create it (useradd --system ${name}) or name another with the osUser option or ${PG_USER_ENV}.`,
    );
  }
  const user = { name, uid: Number(entry[2]), gid: Number(entry[3]) };
  if (user.uid === 0) {
    throw new PgClusterError(`osUser "${name}" has uid 0; PostgreSQL refuses to run as root: name an unprivileged user.`);
  }
  return user;
}
