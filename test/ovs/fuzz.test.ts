/**
 * Acceptance 5 of the OpenFlow-core issue: 100,000 random and mutated frames over sockets to the
 * controller while a live userspace OVS bridge is connected. The controller must stay up, the bridge's
 * session must stay the same connection and keep answering (barrier round trips), and memory must stay
 * bounded. Frames are mutations of real encoded messages (byte flips, truncation, extension, a rewritten
 * length or type) and random bytes behind a valid-looking header; the PRNG is seeded for repeatability.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { encodeMessage, type OfpMessage } from '../../openflow/codec/index.js';
import { startController, type Controller } from '../../openflow/listener.js';
import { arbMessage } from '../../testing/codec/arbitraries.js';
import { ovsUnavailable, createBridge, type Bridge } from '../../testing/ovs.js';
import { requirePrerequisite } from '../helpers/prereq.js';

const TOTAL_FRAMES = Number(process.env.RIVULET_FUZZ_FRAMES ?? 100_000);
const FRAMES_PER_CONNECTION = 25;
const PARALLEL_CONNECTIONS = 4;
const SEED = 20261121;

/** xorshift32: a tiny seeded PRNG so a failing run can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

function forceGc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** Mutates one real message: flips, truncation, extension, or a rewritten length/type field. */
function mutate(seed: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  switch (int(6)) {
    case 0: for (let i = 0, n = 1 + int(4); i < n; i++) b[int(b.length)] = int(256); return b;
    case 1: { const t = b.subarray(0, 8 + int(Math.max(1, b.length - 8))); t.writeUInt16BE(t.length, 2); return Buffer.from(t); }
    case 2: { const e = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)))]); e.writeUInt16BE(e.length, 2); return e; }
    case 3: b.writeUInt16BE(8 + int(b.length), 2); return b.subarray(0, b.readUInt16BE(2) <= b.length ? b.readUInt16BE(2) : b.length);
    case 4: b[1] = int(36); return b;
    default: {
      // random body behind a header that frames correctly
      const len = 8 + int(120);
      const r = Buffer.from(Array.from({ length: len }, () => int(256)));
      r[0] = 4; r[1] = int(36); r.writeUInt16BE(len, 2);
      return r;
    }
  }
}

/** Opens one connection, says HELLO, writes `frames`, and resolves when the controller closes it or after a pause. */
function blast(port: number, frames: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const done = (): void => { clearTimeout(timer); sock.destroy(); resolve(); };
    const timer = setTimeout(done, 200);
    sock.on('error', done);
    sock.on('close', done);
    sock.on('data', () => undefined);
    sock.on('connect', () => {
      sock.write(encodeMessage({ type: 'OFPT_HELLO', xid: 1, version: 4, elements: [{ type: 'OFPHET_VERSIONBITMAP', bitmaps: [0x10] }] }));
      sock.write(Buffer.concat(frames));
    });
  });
}

describe('@slow controller under fuzz with a live OVS bridge', function () {
  this.timeout(300_000);
  let ctl: Controller | undefined;
  let bridge: Bridge | undefined;

  before(async function () {
    requirePrerequisite(this, ovsUnavailable());
    ctl = await startController({ port: 0, logLevel: 'silent' });
    bridge = await createBridge({ controllerPort: ctl.port });
  });

  after(async () => {
    await bridge?.destroy();
    await ctl?.close();
  });

  it('survives 100,000 random and mutated frames; the bridge stays connected and answered; memory bounded', async () => {
    const c = ctl!;
    const dpid = await bridge!.waitConnected(c, 5000);
    const bridgeSession = c.switches.get(dpid)!;
    const seeds: Buffer[] = fc.sample(arbMessage, { seed: SEED, numRuns: 400 }).map((m) => encodeMessage(m as OfpMessage));
    const rnd = prng(SEED);
    forceGc();
    const heapStart = process.memoryUsage().heapUsed;
    let sent = 0;
    let barriers = 0;
    const heapSamples: number[] = [];
    while (sent < TOTAL_FRAMES) {
      const batch: Promise<void>[] = [];
      for (let k = 0; k < PARALLEL_CONNECTIONS && sent < TOTAL_FRAMES; k++) {
        const frames: Buffer[] = [];
        for (let i = 0; i < FRAMES_PER_CONNECTION && sent < TOTAL_FRAMES; i++, sent++) {
          frames.push(mutate(seeds[Math.floor(rnd() * seeds.length)]!, rnd));
        }
        batch.push(blast(c.port, frames));
      }
      await Promise.all(batch);
      if (sent % 10_000 < PARALLEL_CONNECTIONS * FRAMES_PER_CONNECTION) {
        await bridgeSession.barrier({ timeoutMs: 3000 });
        barriers++;
        expect(c.switches.get(dpid), 'the bridge kept its original session').to.equal(bridgeSession);
        forceGc();
        heapSamples.push(process.memoryUsage().heapUsed);
      }
    }
    await bridgeSession.barrier({ timeoutMs: 3000 });
    expect(bridgeSession.alive).to.equal(true);
    expect(await bridge!.isConnected()).to.equal(true);
    await new Promise((r) => setTimeout(r, 1500)); // lingering fuzz sockets finish closing
    forceGc();
    const heapEnd = process.memoryUsage().heapUsed;
    const stats = c.stats();
    console.log(`      fuzz: ${sent} frames over ${Math.ceil(sent / FRAMES_PER_CONNECTION)} connections; ` +
      `${barriers + 1} barrier round trips answered; heap ${(heapStart / 1e6).toFixed(1)} → ${(heapEnd / 1e6).toFixed(1)} MB ` +
      `(samples ${heapSamples.map((h) => (h / 1e6).toFixed(1)).join(', ')}); sessions=${stats.sessions} sockets=${stats.sockets}`);
    expect(sent).to.equal(TOTAL_FRAMES);
    expect(heapEnd - heapStart, 'heap growth (bytes)').to.be.below(32 * 1024 * 1024);
    expect(stats.sessions, 'only the bridge session remains').to.equal(1);
    expect(stats.sockets).to.equal(1);
  });
});
