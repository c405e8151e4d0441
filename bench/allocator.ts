/**
 * `npm run bench:allocator` (README.md "Allocator"): one NED iteration + F-NORM on two-tier fabrics of 384,
 * 1536 and 4608 servers with 8 flowlets per server, single-threaded and with 2 worker threads, in ns per
 * flowlet; the marginal cost of one more NED iteration; the cost of one flowlet arrival (table update +
 * one iteration); and the same figures for a straightforward object-per-flow implementation measured in
 * the same run, with the ratio (these machines are noisy: compare within a run).
 */
import { BaselineAllocator } from './allocator/baseline.js';
import { benchInstance, SERVERS_PER_LEAF, SPINES } from './allocator/fabric.js';
import { baselineArrival, loadTyped, nsPerFlowIteration, typedArrival } from './allocator/measure.js';
import { ParallelFlowtune } from '../apps/allocator/parallel/pool.js';

const SIZES = [384, 1536, 4608];
const PER_SERVER = 8;

interface Row {
  servers: number; flowlets: number; single: number; workers2: number; mainPlus1: number; marginal: number;
  baseline: number; arrivalUs: number; baselineArrivalUs: number;
}

async function measure(servers: number): Promise<Row> {
  const inst = benchInstance(servers, PER_SERVER);
  const F = inst.paths.length;
  const { opt } = loadTyped(inst);
  opt.iterate(30);
  const single = nsPerFlowIteration(() => opt.iterate(1), F);
  const eleven = nsPerFlowIteration(() => opt.iterate(11), F);
  const par = loadTyped(inst, 2, true);
  const pool = new ParallelFlowtune(par.table);
  pool.iterate(30);
  const workers2 = nsPerFlowIteration(() => pool.iterate(1), F);
  await pool.close();
  const par1 = loadTyped(inst, 2, true);
  const pool1 = new ParallelFlowtune(par1.table, {}, true);
  pool1.iterate(30);
  const mainPlus1 = nsPerFlowIteration(() => pool1.iterate(1), F);
  await pool1.close();
  const b = new BaselineAllocator(inst.capacities);
  for (const p of inst.paths) b.add(p);
  for (let i = 0; i < 10; i++) b.iterate();
  const baseline = nsPerFlowIteration(() => b.iterate(), F);
  return {
    servers, flowlets: F, single, workers2, mainPlus1, marginal: (eleven - single) / 10, baseline,
    arrivalUs: typedArrival(inst).arrivalUs, baselineArrivalUs: baselineArrival(inst),
  };
}

function table(rows: Row[]): string {
  const head = '| servers | flowlets | 1 thread ns/flowlet/iter | 2 workers ns/flowlet/iter | main + 1 worker ns/flowlet/iter | +1 NED iteration ns/flowlet | baseline ns/flowlet/iter | baseline ÷ 1 thread | arrival µs | baseline arrival µs |';
  const sep = '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) => `| ${r.servers} | ${r.flowlets} | ${r.single.toFixed(1)} | ${r.workers2.toFixed(1)} | ${r.mainPlus1.toFixed(1)} | ` +
    `${r.marginal.toFixed(1)} | ${r.baseline.toFixed(1)} | ${(r.baseline / r.single).toFixed(2)}× | ` +
    `${r.arrivalUs.toFixed(0)} | ${r.baselineArrivalUs.toFixed(0)} |`);
  return [head, sep, ...lines].join('\n');
}

const rows: Row[] = [];
for (const s of SIZES) rows.push(await measure(s));
console.log(`Allocator benchmark: one NED iteration + F-NORM (price update, rate pass, F-NORM pass); an arrival adds ` +
  `the table update, the warm start and one more rate pass; leaf-spine, ${SERVERS_PER_LEAF} servers/leaf, ${SPINES} spines, ${PER_SERVER} flowlets/server; ` +
  `node ${process.version}, best of 3 × 300 ms.\n`);
console.log(table(rows));
const big = rows[rows.length - 1]!;
console.log(`\ntarget ≤ 40 ns/flowlet/iteration single-threaded at 4608 servers: ${big.single.toFixed(1)} ns ` +
  `(${big.single <= 40 ? 'met' : 'NOT met'}); marginal NED iteration ${big.marginal.toFixed(1)} ns`);
