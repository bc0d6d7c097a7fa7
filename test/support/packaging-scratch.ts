import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** What a scratch app installs besides the packed nestjs-pindb: package name → version range. */
export interface Stack {
  /** Short, used in directory and table names. */
  id: string;
  label: string;
  packages: Record<string, string>;
  /** The version each package must have been installed at, as a prefix ('11.', '0.3.'). */
  expectedVersions: Record<string, string>;
}

interface RunResult {
  code: number;
  output: string;
}

const NETWORK_ERRORS = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT|FETCH_ERROR)\b/;

/**
 * The environment for npm: this process's, without what an enclosing `npm test` says about its own
 * run (its package, its script, `-s`), so the scratch install reads only the scratch app.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_(package|lifecycle)_|^npm_command$|^npm_config_(local_prefix|loglevel)$/i.test(key)) delete env[key];
  }
  return env;
}

function runNpm(args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile('npm', args, { cwd, env: npmEnv(), maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

const tail = (output: string, lines = 60) => output.split('\n').slice(-lines).join('\n');

/** Throws, saying to run the build, unless every entry point of package.json "exports" has been built. */
export async function assertBuilt(root: string): Promise<void> {
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };
  const missing = Object.values(manifest.exports)
    .map((entry) => (typeof entry === 'string' ? entry : entry.default))
    .filter((file) => !existsSync(join(root, file)));
  if (missing.length > 0) {
    throw new Error(`The package is not built (missing ${missing.join(', ')}): run \`npm run build\` first (\`npm test\` does), then this spec packs dist/.`);
  }
}

/** Throws a clear error when npm cannot reach its registry: the scratch installs need it. */
export async function assertRegistryReachable(): Promise<void> {
  const registry = (await runNpm(['config', 'get', 'registry'], tmpdir())).output;
  const ping = await runNpm(['ping', '--fetch-timeout=60000', '--fetch-retries=1'], tmpdir());
  if (ping.code !== 0) {
    throw new Error(
      `The npm registry (${registry}) cannot be reached, and this spec installs the packed nestjs-pindb from it with npm install. npm ping said:\n${tail(ping.output)}`,
    );
  }
}

/** `npm pack` of the repository into `destination`; the tarball's path. */
export async function packTarball(root: string, destination: string): Promise<string> {
  const packed = await runNpm(['pack', '--json', '--ignore-scripts', '--pack-destination', destination], root);
  if (packed.code !== 0) throw new Error(`npm pack failed (exit code ${packed.code}):\n${tail(packed.output)}`);
  const [{ filename }] = JSON.parse(packed.output.slice(packed.output.indexOf('['))) as { filename: string }[];
  return join(destination, filename);
}

/** A new, empty app directory in the OS temp dir (outside the repository: nothing resolves from its node_modules). */
export async function makeScratchDir(stack: Stack): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `nestjs-pindb-${stack.id}-`));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `scratch-${stack.id}`, version: '0.0.0', private: true }, null, 2) + '\n');
  return dir;
}

/**
 * Installs the tarball and the stack into `dir` as a user would, with plain `npm install` (npm's
 * own cache; no --legacy-peer-deps, no --force), and copies the apps in `files` there.
 */
export async function installStack(stack: Stack, dir: string, tarball: string, files: string[]): Promise<void> {
  const specs = Object.entries(stack.packages).map(([name, range]) => `${name}@${range}`);
  const installed = await runNpm(['install', '--no-audit', '--no-fund', tarball, ...specs], dir);
  if (installed.code !== 0) {
    const command = `npm install ${specs.join(' ')} (with the packed nestjs-pindb)`;
    if (/\bERESOLVE\b/.test(installed.output)) {
      throw new Error(`${command} on ${stack.label} failed with ERESOLVE: a peer dependency range rejects this stack. npm said:\n${tail(installed.output)}`);
    }
    if (NETWORK_ERRORS.test(installed.output)) {
      throw new Error(`${command} on ${stack.label} could not reach the npm registry. npm said:\n${tail(installed.output)}`);
    }
    throw new Error(`${command} on ${stack.label} failed (exit code ${installed.code}). npm said:\n${tail(installed.output)}`);
  }
  await Promise.all(files.map((file) => copyFile(file, join(dir, basename(file)))));
}

/** The version of `name` installed at the top of the scratch app's node_modules, or undefined. */
export async function installedVersion(dir: string, name: string): Promise<string | undefined> {
  const manifest = join(dir, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version;
}
