import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// The package as a user installs it: the built files, through package.json "exports", loaded by
// plain Node both as ESM (import) and from CommonJS (require). `npm test` builds first.
const root = join(import.meta.dirname, '../..');
const runInNode = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
const imported = (specifier: string, names: string[]) =>
  runInNode(['--input-type=module', '-e', `const m = await import('${specifier}'); console.log(${JSON.stringify(names)}.map((n) => typeof m[n]).join(' '))`]);
const required = (specifier: string, names: string[]) =>
  runInNode(['--disable-warning=ExperimentalWarning', '-e', `const m = require('${specifier}'); console.log(${JSON.stringify(names)}.map((n) => typeof m[n]).join(' '))`]);

describe('package exports', () => {
  const main = ['PinDbConfigError', 'UnpinnedWriteError', 'NoDatabaseAvailableError'];
  const testing = ['startPgCluster', 'connectPgCluster', 'PgClusterError'];

  it.each([
    ['import', imported],
    ['require', required],
  ])('serves nestjs-pindb and nestjs-pindb/testing to %s', (_how, load) => {
    expect(load('nestjs-pindb', main)).toBe('function function function');
    expect(load('nestjs-pindb/testing', testing)).toBe('function function function');
  });

  it('ships type declarations for both entry points', () => {
    expect(runInNode(['-e', "const fs = require('fs'); console.log(['dist/index.d.ts', 'dist/testing/index.d.ts'].every((f) => fs.existsSync(f)))"])).toBe('true');
  });
});
