import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// The package as a user installs it: the built files, through package.json "exports".
// `npm test` builds first, so dist/ is the code under test.
const root = join(__dirname, '../..');
const requireInNode = (script: string) => execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }).trim();

describe('package exports', () => {
  it('serves nestjs-pindb with the error classes', () => {
    expect(requireInNode("const p = require('nestjs-pindb'); console.log(typeof p.PinDbConfigError, typeof p.UnpinnedWriteError, typeof p.NoDatabaseAvailableError)")).toBe(
      'function function function',
    );
  });

  it('serves nestjs-pindb/testing with startPgCluster and connectPgCluster', () => {
    expect(requireInNode("const t = require('nestjs-pindb/testing'); console.log(typeof t.startPgCluster, typeof t.connectPgCluster, typeof t.PgClusterError)")).toBe(
      'function function function',
    );
  });

  it('ships type declarations for both entry points', () => {
    expect(requireInNode("const fs = require('fs'); console.log(['dist/index.d.ts', 'dist/testing/index.d.ts'].every((f) => fs.existsSync(f)))")).toBe('true');
  });
});
