/**
 * The figures a bench run produced, kept as bench/results/<bench>.json for bench/charts.ts: the
 * data with when, on which Node and under what machine load it was measured, since a chart's
 * figures mean little without them. Each run of a bench replaces its file.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export interface BenchResults<T> {
  bench: string;
  /** When the run ended (ISO 8601). */
  date: string;
  /** process.version of the bench's parent (its workers run the same binary). */
  node: string;
  /** The machine's 1, 5 and 15 minute load averages at the end, and its cores: how loaded it was. */
  loadAverage: number[];
  cores: number;
  data: T;
}

/** Writes bench/results/<bench>.json (replacing an earlier run's); resolves with its path. */
export async function saveResults<T>(bench: string, data: T): Promise<string> {
  const results: BenchResults<T> = {
    bench,
    date: new Date().toISOString(),
    node: process.version,
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
    cores: cpus().length,
    data,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${bench}.json`);
  // Formatted as the project's Prettier config wants, so that `npm run lint` passes with the file committed.
  const prettier = await import('prettier');
  const options = await prettier.resolveConfig(path);
  writeFileSync(path, await prettier.format(JSON.stringify(results), { ...options, filepath: path }));
  console.log(`results written to ${path}`);
  return path;
}

/** bench/results/<bench>.json, or undefined when that bench has not saved any. */
export function loadResults<T>(bench: string): BenchResults<T> | undefined {
  try {
    return JSON.parse(readFileSync(join(RESULTS_DIR, `${bench}.json`), 'utf8')) as BenchResults<T>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Every saved result whose bench name matches `pattern`, in name order. */
export function loadAllResults<T>(pattern: RegExp): BenchResults<T>[] {
  let names: string[];
  try {
    names = readdirSync(RESULTS_DIR);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith('.json') && pattern.test(name.slice(0, -'.json'.length)))
    .sort()
    .map((name) => loadResults<T>(name.slice(0, -'.json'.length))!);
}
