/**
 * Traffic for the agent-cost benchmark (bench/agent-cost.ts), run inside a network namespace:
 *
 *   node dist/bench/agent-traffic.js sink --port 5001
 *   node dist/bench/agent-traffic.js send --dst 10.98.0.2 --port 5001 --offered 20M --seconds 30 --seed 1 [--cdf FILE]
 *                                          [--size-scale 0.1]
 *
 * `send` opens one TCP connection per flow, Poisson arrivals whose mean offered load is `--offered`
 * bit/s, sizes drawn from the `.cdf` (default the web-search distribution of DCTCP, SIGCOMM 2010 — the
 * workload of PIAS and Karuna), times `--size-scale` (default 1; the experiment kit's websearch runs use
 * 0.1: ten times the flows at the same load); it prints one JSON line per flow, `{"sport", "sizeBytes", "firstWriteUs"}`,
 * where `firstWriteUs` (µs since the epoch) is taken just before the first write() of the flow's data
 * (the connection is already established: that write's first segment is the flowlet's first packet).
 * `sink` reads and discards. Both stop at SIGTERM; `send` also after `--seconds`.
 */
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { parseCdf, quantile } from '../apps/qos/thresholds/index.js';
import { nowEpochUs } from '../protocol/agent.js';
import { mulberry32 } from '../testing/random.js';

function arg(name: string, dflt?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : dflt;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

/** "20M" → 2e7 (SI). */
function bits(s: string): number {
  const m = /^([0-9.]+)([kMG]?)$/.exec(s);
  if (!m) throw new Error(`not a rate: ${s}`);
  return Number(m[1]) * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]!]!;
}

const rng = mulberry32;

function sink(port: number): void {
  const server = createServer((s) => {
    s.on('data', () => undefined);
    s.on('error', () => undefined);
  });
  server.listen(port, () => process.stdout.write(`{"listening":${port}}\n`));
  process.on('SIGTERM', () => process.exit(0));
}

function send(): void {
  const dst = arg('dst');
  const port = Number(arg('port', '5001'));
  const offeredBps = bits(arg('offered', '20M'));
  const seconds = Number(arg('seconds', '30'));
  const rand = rng(Number(arg('seed', '1')));
  const cdfPath = arg('cdf', new URL('../../test/fixtures/workloads/websearch.cdf', import.meta.url).pathname);
  const dist = parseCdf(readFileSync(cdfPath, 'utf8'));
  const scale = Number(arg('size-scale', '1'));
  const flowsPerS = offeredBps / 8 / (dist.meanBytes * scale);
  const open = new Set<Socket>();
  const endAt = Date.now() + seconds * 1000;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const flow = (): void => {
    const size = Math.max(1, Math.round(quantile(dist, Math.min(0.999999, rand())) * scale));
    const s = connect({ host: dst, port }, () => {
      let left = size;
      const firstWriteUs = nowEpochUs();
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            s.once('drain', pump);
            return;
          }
        }
        s.end();
      };
      pump();
      process.stdout.write(`${JSON.stringify({ sport: s.localPort, sizeBytes: size, firstWriteUs })}\n`);
    });
    open.add(s);
    s.setNoDelay(true);
    s.on('error', () => undefined);
    s.on('close', () => open.delete(s));
  };
  const next = (): void => {
    if (Date.now() >= endAt) return;
    flow();
    setTimeout(next, (-Math.log(1 - rand()) / flowsPerS) * 1000);
  };
  next();
  const stop = (): void => {
    for (const s of open) s.destroy();
    process.exit(0);
  };
  setTimeout(stop, seconds * 1000 + 200);
  process.on('SIGTERM', stop);
}

if (process.argv[2] === 'sink') sink(Number(arg('port', '5001')));
else if (process.argv[2] === 'send') send();
else {
  process.stderr.write('usage: agent-traffic.js sink|send [options]\n');
  process.exit(2);
}
