// The benches' figures as pictures: reads bench/results/*.json (written by the benches' last runs,
// bench/results.ts) and draws SVG charts into docs/images/, with Vega-Lite, rendered headless
// (Vega's 'none' renderer writes SVG text itself: no canvas, no browser).
//
// Run: npm run bench:charts   (after bench:consistency, bench:failover, bench:routing-overhead on
//                              each Node version to compare; a chart whose results are missing is
//                              left as it is)
//
//   read-your-writes-consistency.svg   replica share and stale own-reads per replica lag, per variant
//   failover-<scenario>.svg            ok and failed requests per second around the fault, PinDb vs plain TypeORM
//   routing-overhead-node.svg          PinDb's cost per read against plain TypeORM, per Node version
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, View } from 'vega';
import { compile, TopLevelSpec } from 'vega-lite';
import { BenchResults, loadAllResults, loadResults } from './results.js';

/** One chart of a vconcat / hconcat, as vega-lite's public TopLevelSpec types it. */
type ConcatPart = Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'][number];

const IMAGES = fileURLToPath(new URL('../docs/images/', import.meta.url));

/** Lines and bars of one variant keep one colour in every chart. */
const COLORS: Record<string, string> = { PinDb: '#2a9d4b', 'plain TypeORM': '#d1495b' };

/** When, on which Node and under what load the figures were measured: every chart says it. */
function provenance(results: BenchResults<unknown>[]): string {
  const days = [...new Set(results.map((r) => r.date.slice(0, 10)))].join(', ');
  const nodes = [...new Set(results.map((r) => r.node))].join(', ');
  const loads = results.map((r) => r.loadAverage[0]);
  const load = Math.min(...loads) === Math.max(...loads) ? `${loads[0]}` : `${Math.min(...loads)}–${Math.max(...loads)}`;
  return `measured ${days} on Node ${nodes}, ${results[0].cores} cores at a load average of ${load} (the machine's other work included)`;
}

async function render(name: string, spec: TopLevelSpec): Promise<void> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  mkdirSync(IMAGES, { recursive: true });
  const path = join(IMAGES, name);
  writeFileSync(path, svg + '\n');
  console.log(`drew ${path}`);
}

const BASE = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  background: 'white',
  padding: 12,
  config: {
    font: 'Helvetica, Arial, sans-serif',
    title: { anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555' },
    view: { stroke: null },
    legend: { labelLimit: 420 },
  },
} as const;

// ---------------------------------------------------------------- read-your-writes (bench/consistency.ts)

interface ConsistencyRow {
  lagMs: number;
  variant: string;
  label: string;
  reads: number;
  replicaReads: number;
  oracleReads: number;
  staleReads: number;
}

interface ConsistencyData {
  clients: number;
  writeShare: number;
  rows: ConsistencyRow[];
}

async function consistencyChart(): Promise<void> {
  const results = loadResults<ConsistencyData>('consistency');
  if (!results?.data.rows.length) return console.log('no bench/results/consistency.json: run npm run bench:consistency first');
  const rows = results.data.rows;
  const lag = (ms: number) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);
  const lags = [...new Set(rows.map((r) => r.lagMs))].sort((a, b) => a - b).map(lag);
  const labels = [...new Set(rows.map((r) => r.label))];
  const pct = (part: number, whole: number) => (whole ? (100 * part) / whole : 0);
  // Each run has an oracle of its own: what it would have sent to a replica, from its own trace.
  const values = rows.map((r) => ({
    lag: lag(r.lagMs),
    variant: r.label,
    replicas: pct(r.replicaReads, r.reads),
    oracle: pct(r.oracleReads, r.reads),
    stale: pct(r.staleReads, r.reads),
  }));
  const x = { field: 'lag', type: 'ordinal', sort: lags, title: 'replica lag', axis: { labelAngle: 0 } } as const;
  const xOffset = { field: 'variant', type: 'nominal', sort: labels } as const;
  const color = {
    field: 'variant',
    type: 'nominal',
    sort: labels,
    title: null,
    legend: { orient: 'bottom', columns: 2 },
    scale: { scheme: 'tableau10' },
  } as const;
  const y = (field: string) => ({ field, type: 'quantitative' as const, title: '% of reads', scale: { domain: [0, 100] } });
  const size = { width: { step: 22 }, height: 260 } as const;
  const spec: TopLevelSpec = {
    ...BASE,
    title: {
      text: 'Read-your-writes: reads the replicas served, and reads that missed their own write',
      subtitle: [
        `${results.data.clients} clients, ${results.data.writeShare * 100} % writes, each reading back its own latest row; both replicas held back by recovery_min_apply_delay.`,
        "Black tick: the run's oracle, the share that could safely go to replicas (the lag had passed since the client's last acknowledged write).",
        provenance([results]),
      ],
    },
    data: { values },
    hconcat: [
      {
        ...size,
        title: { text: 'served by replicas (up to the oracle is better)', fontSize: 12, frame: 'group' },
        layer: [
          { mark: { type: 'bar' }, encoding: { x, xOffset, y: y('replicas'), color } },
          { mark: { type: 'tick', color: '#111', thickness: 2 }, encoding: { x, xOffset, y: y('oracle') } },
        ],
      },
      {
        ...size,
        title: { text: 'stale own-reads (0 is the goal)', fontSize: 12, frame: 'group' },
        layer: [
          { mark: { type: 'bar' }, encoding: { x, xOffset, y: y('stale'), color } },
          {
            mark: { type: 'text', dy: -6, fontSize: 9, color: '#333' },
            // A few stale reads in thousands must not read as 0.
            transform: [{ calculate: "datum.stale === 0 ? '0' : format(datum.stale, datum.stale < 10 ? '.1f' : '.0f')", as: 'staleText' }],
            encoding: { x, xOffset, y: y('stale'), text: { field: 'staleText', type: 'nominal' } },
          },
        ],
      },
    ],
    resolve: { scale: { color: 'shared' } },
  };
  await render('read-your-writes-consistency.svg', spec);
}

// ---------------------------------------------------------------- failover (bench/failover.ts)

interface FailoverRun {
  scenario: string;
  variant: string;
  faultAtMs: number;
  recoverAtMs: number;
  timeline: { second: number; ok: number; failed: number }[];
}

interface FailoverData {
  knobs: { connections: number; clientTimeoutMs: number };
  faultNames: Record<string, [string, string]>;
  labels: Record<string, string>;
  results: FailoverRun[];
}

async function failoverCharts(): Promise<void> {
  const results = loadResults<FailoverData>('failover');
  if (!results?.data.results.length) return console.log('no bench/results/failover.json: run npm run bench:failover first');
  const { knobs, faultNames, labels } = results.data;
  for (const scenario of [...new Set(results.data.results.map((r) => r.scenario))]) {
    const runs = results.data.results.filter((r) => r.scenario === scenario && r.timeline);
    if (runs.length === 0) continue;
    const [injectName, recoverName] = faultNames[scenario];
    // A step line draws each bucket from its second to the next point: the last bucket gets a
    // closing point one second on, so that it is drawn as wide as the others.
    const values = runs.flatMap((run) =>
      [...run.timeline, { ...run.timeline[run.timeline.length - 1], second: run.timeline.length }].flatMap(({ second, ok, failed }) => [
        { second, variant: labels[run.variant], outcome: 'answered 200', requests: ok },
        { second, variant: labels[run.variant], outcome: 'failed', requests: failed },
      ]),
    );
    // The runs inject and recover within a few ms of each other: the first run's times mark them.
    const marks = [
      { at: runs[0].faultAtMs / 1000, text: injectName },
      { at: runs[0].recoverAtMs / 1000, text: recoverName },
    ];
    const variants = runs.map((run) => labels[run.variant]);
    const color = {
      field: 'variant',
      type: 'nominal',
      title: null,
      legend: { orient: 'top' },
      scale: { domain: variants, range: variants.map((v) => COLORS[v] ?? '#4c78a8') },
    } as const;
    const x = { field: 'second', type: 'quantitative', title: 'seconds since the load started (requests counted in the second they were sent)' } as const;
    const panel = (outcome: string, title: string, height: number): ConcatPart => ({
      width: 620,
      height,
      title: { text: title, fontSize: 12, frame: 'group' },
      layer: [
        {
          transform: [{ filter: { field: 'outcome', equal: outcome } }],
          mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
          encoding: { x, y: { field: 'requests', type: 'quantitative', title: 'requests per second' }, color },
        },
        { data: { values: marks }, mark: { type: 'rule', strokeDash: [4, 3], color: '#555' }, encoding: { x: { field: 'at', type: 'quantitative' } } },
        {
          data: { values: marks },
          mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 2, fontSize: 11, color: '#333' },
          encoding: { x: { field: 'at', type: 'quantitative' }, y: { value: 0 }, text: { field: 'text' } },
        },
      ],
    });
    const spec: TopLevelSpec = {
      ...BASE,
      title: {
        text: `${injectName} under load: requests answered and failed, second by second`,
        subtitle: [
          `${knobs.connections} closed-loop clients on a GET that reads one row; failed: not 200, socket lost, or no answer within ${knobs.clientTimeoutMs / 1000} s.`,
          provenance([results]),
        ],
      },
      data: { values },
      vconcat: [panel('answered 200', 'answered 200', 200), panel('failed', 'failed', 160)],
      resolve: { scale: { color: 'shared', x: 'shared' } },
    };
    await render(`failover-${scenario}.svg`, spec);
  }
}

// ---------------------------------------------------------------- routing overhead (bench/routing-overhead.ts)

interface Ratios {
  medianRead: number;
}

interface OverheadData {
  rounds: number;
  reads: number;
  vsPlain: Record<string, Ratios>;
  byTurns: { reads: number; 'pindb-run': Ratios; 'pindb-random': Ratios };
}

async function overheadChart(): Promise<void> {
  const all = loadAllResults<OverheadData>(/^routing-overhead-node\d+$/);
  if (all.length === 0) return console.log('no bench/results/routing-overhead-node<major>.json: run npm run bench:routing-overhead first');
  // What each bar shows, and where the bench saved it. 'random' by turns runs the same hooks as
  // round-robin: how far the two bars differ shows the noise of the run.
  const measured: [string, (data: OverheadData) => number][] = [
    ['PinDb, separate processes (median read)', (data) => data.vsPlain['pindb-run'].medianRead],
    ['PinDb, reads by turns in one process', (data) => data.byTurns['pindb-run'].medianRead],
    ["PinDb 'random', reads by turns in one process", (data) => data.byTurns['pindb-random'].medianRead],
    ['AsyncLocalStorage alone (plain TypeORM in ALS.run())', (data) => data.vsPlain['plain-als'].medianRead],
  ];
  const measures = measured.map(([label]) => label);
  const percent = (ratio: number) => Math.round((ratio - 1) * 1000) / 10;
  const versions = all.sort((a, b) => Number(a.node.slice(1).split('.')[0]) - Number(b.node.slice(1).split('.')[0])).map((r) => `Node ${r.node.slice(1)}`);
  const values = all.flatMap((r, i) => measured.map(([measure, ratio]) => ({ node: versions[i], measure, overhead: percent(ratio(r.data)) })));
  const { rounds, reads } = all[0].data;
  const spec: TopLevelSpec = {
    ...BASE,
    title: {
      text: "PinDb's routing cost per TypeORM read, against plain TypeORM replication, per Node version",
      subtitle: [
        `Sequential findOneBy on the replicas of one cluster; ${rounds} rounds of ${reads} reads per variant (median of per-round ratios); dashed: the +3 % goal.`,
        'On a loaded machine the runs move by several points: bars within a few % of 0 are within the noise.',
        provenance(all),
      ],
    },
    data: { values },
    width: { step: 40 },
    height: 280,
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'node', type: 'nominal', sort: versions, title: null, axis: { labelAngle: 0 } },
          xOffset: { field: 'measure', type: 'nominal', sort: measures },
          y: { field: 'overhead', type: 'quantitative', title: '% slower than plain TypeORM per read', scale: { padding: 16 } },
          color: {
            field: 'measure',
            type: 'nominal',
            sort: measures,
            title: null,
            legend: { orient: 'bottom', direction: 'vertical' },
            scale: { scheme: 'set2' },
          },
        },
      },
      {
        mark: { type: 'text', dy: { expr: 'datum.overhead < 0 ? 10 : -6' }, fontSize: 10 },
        encoding: {
          x: { field: 'node', type: 'nominal', sort: versions },
          xOffset: { field: 'measure', type: 'nominal', sort: measures },
          y: { field: 'overhead', type: 'quantitative' },
          text: { field: 'overhead', type: 'quantitative', format: '+.1f' },
        },
      },
      { data: { values: [{ y: 3 }] }, mark: { type: 'rule', strokeDash: [5, 4], color: '#d1495b' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      { data: { values: [{ y: 0 }] }, mark: { type: 'rule', color: '#333' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };
  await render('routing-overhead-node.svg', spec);
}

await consistencyChart();
await failoverCharts();
await overheadChart();
