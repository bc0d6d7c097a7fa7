/**
 * bench/failover.ts's figures per phase: before the fault, during it, after the recovery. A request
 * belongs to the phase in which it was sent; latencies are those of the requests that succeeded.
 */
import type { RequestRecord } from './failover-load.js';
import { pad, percentile } from './stats.js';

/** A request slower than this paid a wait the others did not (a connect timeout, a hung read). */
export const SLOW_MS = 1000;

export interface PhaseFigures {
  phase: 'before' | 'during' | 'after';
  requests: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  /** Requests whose PinDb stats show retries > 0 (undefined without PinDb). */
  retried?: number;
  slow: number;
}

/** Splits `records` (warm-up excluded) at `faultAt` and `recoverAt` (ms since t0). */
export function phases(records: RequestRecord[], faultAt: number, recoverAt: number, withStats: boolean): PhaseFigures[] {
  const bounds: [PhaseFigures['phase'], number, number][] = [
    ['before', 0, faultAt],
    ['during', faultAt, recoverAt],
    ['after', recoverAt, Number.POSITIVE_INFINITY],
  ];
  return bounds.map(([phase, from, to]) => {
    const sent = records.filter((record) => record.start >= from && record.start < to);
    const ok = sent.filter((record) => record.error === undefined).map((record) => record.latency);
    return {
      phase,
      requests: sent.length,
      failed: sent.length - ok.length,
      p50: ok.length ? percentile(ok, 50) : NaN,
      p99: ok.length ? percentile(ok, 99) : NaN,
      max: ok.length ? Math.max(...ok) : NaN,
      retried: withStats ? sent.filter((record) => (record.retries ?? 0) > 0).length : undefined,
      slow: sent.filter((record) => record.latency >= SLOW_MS).length,
    };
  });
}

export interface TableRow {
  scenario: string;
  variant: string;
  figures: PhaseFigures;
}

const fixed = (value: number) => (Number.isNaN(value) ? '—' : value.toFixed(value < 10 ? 1 : 0));

/** The rows as a Markdown table, ready for the README. */
export function markdownTable(rows: TableRow[]): string {
  const header = ['scenario', 'variant', 'phase', 'requests', 'failed', 'p50 ms', 'p99 ms', 'max ms', 'retried', `> ${SLOW_MS / 1000} s`];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const { scenario, variant, figures: f } of rows) {
    const cells = [
      scenario,
      variant,
      f.phase,
      String(f.requests),
      String(f.failed),
      fixed(f.p50),
      fixed(f.p99),
      fixed(f.max),
      f.retried === undefined ? '—' : String(f.retried),
      String(f.slow),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** A line for a run's progress: its three phases side by side. */
export function phaseLine(figures: PhaseFigures[]): string {
  return figures
    .map(
      (f) =>
        `${pad(f.phase, 6)} ${f.requests} req, ${f.failed} failed, p50 ${fixed(f.p50)} / p99 ${fixed(f.p99)} ms${f.retried === undefined ? '' : `, ${f.retried} retried`}`,
    )
    .join('; ');
}

/** The promote scenario's figures per phase: its reads and its writes apart. */
export interface MixedPhaseFigures {
  phase: PhaseFigures['phase'];
  reads: PhaseFigures;
  writes: PhaseFigures;
}

/** As `phases`, for reads and writes apart. */
export function mixedPhases(records: RequestRecord[], faultAt: number, recoverAt: number, withStats: boolean): MixedPhaseFigures[] {
  const reads = phases(
    records.filter((record) => !record.write),
    faultAt,
    recoverAt,
    withStats,
  );
  const writes = phases(
    records.filter((record) => record.write),
    faultAt,
    recoverAt,
    false,
  );
  return reads.map((figures, i) => ({ phase: figures.phase, reads: figures, writes: writes[i] }));
}

/** The promote runs' phases as a Markdown table. */
export function mixedTable(rows: { variant: string; figures: MixedPhaseFigures }[]): string {
  const header = ['variant', 'phase', 'reads', 'failed reads', 'read p50 / p99 ms', 'retried', 'writes', 'failed writes', 'write p50 / p99 ms'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const { variant, figures: f } of rows) {
    const cells = [
      variant,
      f.phase,
      String(f.reads.requests),
      String(f.reads.failed),
      `${fixed(f.reads.p50)} / ${fixed(f.reads.p99)}`,
      f.reads.retried === undefined ? '—' : String(f.reads.retried),
      String(f.writes.requests),
      String(f.writes.failed),
      `${fixed(f.writes.p50)} / ${fixed(f.writes.p99)}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** A promote run's progress line: its three phases side by side. */
export function mixedLine(figures: MixedPhaseFigures[]): string {
  return figures
    .map(({ phase, reads, writes }) => `${pad(phase, 6)} ${reads.requests} reads, ${reads.failed} failed; ${writes.requests} writes, ${writes.failed} failed`)
    .join(' | ');
}
