/**
 * `npm run bench:fuzz` (root, Open vSwitch; not part of `npm test`): FRAMES mutated OpenFlow frames sent
 * at the `rivulet controller` CLI (its own process, so its RSS and a crash are its own) over real sessions
 * while a live userspace OVS bridge stays connected to it.
 *
 * Each fuzz connection plays a switch through the handshake (HELLO, FEATURES_REPLY with a dpid of its
 * own, PORT_DESC, BARRIER and ECHO answered) so that its frames reach a session in MAIN state, then sends
 * FRAMES_PER_SESSION well-framed mutations of valid messages of every type the codec knows (bytes flipped,
 * body truncated or extended with the length rewritten, the type rewritten, random bodies behind a valid
 * header), and — every other connection — ends with one frame of broken framing (a version other than
 * 1.3, a length below 8 or beyond the buffer, random bytes). Counted: OFPT_ERRORs the controller answered,
 * connections it closed (a framing error must close; a bad body must not), controller crashes (its
 * process exiting), its RSS over time, and whether the bridge's session was ever replaced (same peer
 * address and port throughout, OVS's `sec_since_connect` covering the run).
 *
 * Options (environment): RIVULET_FUZZ_FRAMES (default 1,000,000), RIVULET_FUZZ_PARALLEL (8),
 * RIVULET_FUZZ_SEED, RIVULET_FUZZ_HEAP_MB (the controller's V8 old-space limit, default 128). The bridge it creates (`rvfz` + 4 letters) is deleted by name at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, FrameDecoder, type OfpMessage } from '../openflow/codec/index.js';
import { arbMessage } from '../testing/codec/arbitraries.js';
import { mulberry32 } from '../testing/random.js';

const FRAMES = Number(process.env['RIVULET_FUZZ_FRAMES'] ?? 1_000_000);
const PARALLEL = Number(process.env['RIVULET_FUZZ_PARALLEL'] ?? 8);
const SEED = Number(process.env['RIVULET_FUZZ_SEED'] ?? 20261205);
const FRAMES_PER_SESSION = 200;
/**
 * V8's old-space limit of the controller under fuzz, MB (RIVULET_FUZZ_HEAP_MB). Without one, V8 grows its
 * heap lazily (major collections are rare while the limit is far away) and RSS climbs with garbage that is
 * merely uncollected; under a limit, anything the controller really retained per session would end the
 * run in an out-of-memory crash, which the run counts.
 */
const HEAP_LIMIT_MB = Number(process.env['RIVULET_FUZZ_HEAP_MB'] ?? 128);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const hello = (): Buffer => encodeMessage({ type: 'OFPT_HELLO', xid: 1, version: 4, elements: [{ type: 'OFPHET_VERSIONBITMAP', bitmaps: [0x10] }] });

/** A well-framed mutation of `seed` (the header's version stays 1.3 and its length is the frame's). */
function mutate(seed: Buffer, rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  let b = Buffer.from(seed);
  switch (int(5)) {
    case 0: for (let i = 0, n = 1 + int(4); i < n; i++) { const at = 8 + int(Math.max(1, b.length - 8)); if (at < b.length) b[at] = int(256); } break;
    case 1: b = Buffer.from(b.subarray(0, 8 + int(Math.max(1, b.length - 7)))); break;
    case 2: b = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)))]); break;
    case 3: b[1] = int(36); break;
    default: b = Buffer.from(Array.from({ length: 8 + int(160) }, () => int(256))); b[1] = int(36); break;
  }
  b[0] = 4;
  b.writeUInt16BE(b.length, 2);
  return b;
}

/** One frame that breaks the framing: a version other than 1.3, or a header length below 8. */
function badFraming(rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  const b = Buffer.from(Array.from({ length: 8 + int(40) }, () => int(256)));
  if (rnd() < 0.5) {
    b[0] = [1, 2, 3, 5, 6, 0xff][int(6)]!;
    b.writeUInt16BE(b.length, 2);
  } else {
    b[0] = 4;
    b.writeUInt16BE(int(8), 2);
  }
  return b;
}

interface SessionOutcome {
  errors: number; closedByController: boolean; reachedMain: boolean; framed: boolean;
  /** the last OFPT_ERROR received (type/code), to say why a session closed */
  lastError?: string;
}

/** One fuzz connection: handshake as switch `dpid`, the frames, then wait briefly for what comes back. */
function fuzzSession(port: number, dpid: bigint, frames: Buffer[], tail: Buffer | undefined): Promise<SessionOutcome> {
  return new Promise((resolve) => {
    const out: SessionOutcome = { errors: 0, closedByController: false, reachedMain: false, framed: tail !== undefined };
    const dec = new FrameDecoder();
    const sock = net.connect(port, '127.0.0.1');
    let sent = false;
    let ending = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => { if (timer) clearTimeout(timer); sock.destroy(); resolve(out); };
    const reply = (m: OfpMessage): void => void sock.write(encodeMessage(m));
    const blast = (): void => {
      if (sent) return;
      sent = true;
      sock.write(Buffer.concat(tail ? [...frames, tail] : frames));
      // then give the controller a moment to answer or close
      timer = setTimeout(() => { ending = true; finish(); }, 150);
    };
    sock.on('error', () => finish());
    sock.on('close', () => { if (!ending) out.closedByController = true; finish(); });
    sock.on('connect', () => sock.write(hello()));
    timer = setTimeout(blast, 2000); // no MAIN state within 2 s: send anyway
    sock.on('data', (chunk: Buffer) => {
      dec.push(chunk);
      for (let f = dec.next(); f instanceof Buffer; f = dec.next()) {
        const r = decodeMessage(f);
        if (!r.ok) continue;
        const m = r.value;
        if (m.type === 'OFPT_ERROR' && sent) {
          out.errors++;
          out.lastError = `${m.errType}/${m.code}`;
        }
        else if (m.type === 'OFPT_FEATURES_REQUEST') {
          reply({ type: 'OFPT_FEATURES_REPLY', xid: m.xid, datapathId: dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 });
        } else if (m.type === 'OFPT_MULTIPART_REQUEST' && m.body.mpType === 'OFPMP_PORT_DESC') {
          reply({ type: 'OFPT_MULTIPART_REPLY', xid: m.xid, flags: 0, body: { mpType: 'OFPMP_PORT_DESC', ports: [] } } as OfpMessage);
        } else if (m.type === 'OFPT_BARRIER_REQUEST') {
          reply({ type: 'OFPT_BARRIER_REPLY', xid: m.xid });
          // the table-miss entry goes out with a barrier: the session is in MAIN state
          if (!sent) { out.reachedMain = true; if (timer) clearTimeout(timer); setImmediate(blast); }
        } else if (m.type === 'OFPT_ECHO_REQUEST') reply({ type: 'OFPT_ECHO_REPLY', xid: m.xid, data: m.data });
      }
    });
  });
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The controller's V8 heap in use, MB, from its /metrics (`rivulet_process_memory_bytes{kind="heapUsed"}`); NaN when unreadable. */
async function heapUsedMb(api: string): Promise<number> {
  const text = await fetch(api.replace(/\/api\/v1$/, '/metrics')).then((r) => r.text(), () => '');
  const m = /^rivulet_process_memory_bytes\{kind="heapUsed"\} (\S+)$/m.exec(text);
  return m ? Number(m[1]) / 1024 / 1024 : NaN;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-fuzz-'));
  const [ofPort, apiPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'c.json'), JSON.stringify({ qos: { enabled: false }, agents: { socketPath: '' } }));
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_LIMIT_MB}`, join(REPO, 'bin', 'rivulet.js'), 'controller', '--config', join(dir, 'c.json'),
    '--of-port', String(ofPort), '--api-port', String(apiPort), '--host', '127.0.0.1', '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  let crashed: string | undefined;
  child.once('exit', (code, sig) => { crashed = `exit ${code ?? ''}${sig ?? ''}`; });
  const api = `http://127.0.0.1:${apiPort}/api/v1`;
  for (let i = 0; i < 100 && !(await fetch(`${api}/health`).then((r) => r.ok, () => false)); i++) await sleep(100);

  const letters = Array.from({ length: 4 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
  const br = `rvfz${letters}`;
  const brDpid = '00005256fa000001';
  sh('ovs-vsctl', ['add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow13',
    `other-config:datapath-id=${brDpid}`, '--', 'set-controller', br, `tcp:127.0.0.1:${ofPort}`]);
  const peerOf = async (): Promise<string | null> =>
    fetch(`${api}/switches/${brDpid}`).then(async (r) => (r.ok ? ((await r.json()) as { peer: string | null }).peer : null), () => null);
  try {
    let peer: string | null = null;
    for (let i = 0; i < 100 && !(peer = await peerOf()); i++) await sleep(100);
    if (!peer) throw new Error('the bridge did not connect');
    const t0 = Date.now();
    const seeds = fc.sample(arbMessage, { seed: SEED, numRuns: 2000 }).map((m) => encodeMessage(m));
    const seedTypes = new Set(seeds.map((b) => b[1]).filter((t) => t !== undefined && t <= 29)); // OFPT_HELLO 0 … OFPT_METER_MOD 29
    const rnd = mulberry32(SEED);
    let sentFrames = 0, sessions = 0, errors = 0, closedFraming = 0, closedOther = 0, framingSent = 0, reachedMain = 0;
    const closedOtherWhy = new Map<string, number>();
    const peers = new Set<string>([peer]);
    const rss: [number, number][] = [[0, rssMb(child.pid!)]];
    const heap: [number, number][] = [[0, await heapUsedMb(api)]];
    let nextDpid = 0x5256_f100_0000_0000n;
    let nextSample = 0;
    let lastReport = Date.now();
    while (sentFrames < FRAMES && !crashed) {
      const batch: Promise<SessionOutcome>[] = [];
      for (let k = 0; k < PARALLEL && sentFrames < FRAMES; k++) {
        const n = Math.min(FRAMES_PER_SESSION, FRAMES - sentFrames);
        const frames = Array.from({ length: n }, () => mutate(seeds[Math.floor(rnd() * seeds.length)]!, rnd));
        const tail = rnd() < 0.5 ? badFraming(rnd) : undefined;
        sentFrames += n + (tail ? 1 : 0);
        if (tail) framingSent++;
        batch.push(fuzzSession(ofPort, nextDpid++, frames, tail));
      }
      for (const o of await Promise.all(batch)) {
        sessions++;
        errors += o.errors;
        if (o.reachedMain) reachedMain++;
        if (o.closedByController) {
          if (o.framed) closedFraming++;
          else {
            closedOther++;
            const why = o.lastError ?? 'no error sent';
            closedOtherWhy.set(why, (closedOtherWhy.get(why) ?? 0) + 1);
          }
        }
      }
      if (Date.now() >= nextSample) {
        nextSample = Date.now() + 5000;
        rss.push([(Date.now() - t0) / 1000, crashed ? NaN : rssMb(child.pid!)]);
        heap.push([(Date.now() - t0) / 1000, crashed ? NaN : await heapUsedMb(api)]);
        const p = await peerOf();
        peers.add(p ?? 'gone');
      }
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        process.stderr.write(`fuzz: ${sentFrames} frames, ${sessions} sessions, RSS ${rss[rss.length - 1]![1].toFixed(0)} MB\n`);
      }
    }
    const secs = (Date.now() - t0) / 1000;
    await sleep(1000);
    const finalPeer = await peerOf();
    peers.add(finalPeer ?? 'gone');
    const since = sh('ovs-vsctl', ['--columns=status', 'list', 'controller', br]);
    const secSinceConnect = Number(/sec_since_connect="?(\d+)/.exec(since)?.[1] ?? NaN);
    const health = crashed ? undefined : await fetch(`${api}/health`).then((r) => r.json() as Promise<Record<string, unknown>>, () => undefined);
    // what the controller still holds of the ~sessions fuzz switches that came and went
    const count = async (path: string, key: string): Promise<number | null> => crashed ? null
      : fetch(`${api}${path}`).then(async (r) => ((await r.json()) as Record<string, unknown[]>)[key]?.length ?? null, () => null);
    const held = { switches: await count('/switches', 'switches'), packetInSwitches: await count('/packet-ins', 'switches'), meterSupport: await count('/meters', 'switches') };
    const series = (xs: [number, number][]): Record<string, number | string> => {
      const vals = xs.map(([, v]) => v).filter((v) => Number.isFinite(v));
      return {
        start: Math.round(vals[0]!), max: Math.round(Math.max(...vals)), end: Math.round(vals[vals.length - 1]!),
        // growth per fuzz session over the run's second half (after V8 and malloc have warmed up), kB
        secondHalfKbPerSession: Number(((vals[vals.length - 1]! - vals[Math.floor(vals.length / 2)]!) * 1024 / Math.max(1, sessions / 2)).toFixed(2)),
        samples: xs.map(([t, v]) => `${Math.round(t)}s:${Math.round(v)}`).join(' '),
      };
    };
    console.log(JSON.stringify({
      heapLimitMb: HEAP_LIMIT_MB, frames: sentFrames, seconds: Number(secs.toFixed(1)), framesPerSecond: Math.round(sentFrames / secs), sessions, sessionsReachedMain: reachedMain,
      seedMessages: seeds.length, seedOpenFlowTypes: seedTypes.size,
      crashes: crashed ? 1 : 0, crash: crashed ?? null,
      answeredWithError: errors, framingErrorsSent: framingSent, closedAfterFramingError: closedFraming, closedWithoutFramingError: closedOther,
      closedWithoutFramingErrorLastError: Object.fromEntries(closedOtherWhy),
      bridge: { peers: [...peers], disconnected: peers.size !== 1, secSinceConnect, runSeconds: Math.round(secs) },
      rssMb: series(rss),
      heapUsedMb: series(heap),
      health: health ? { status: health['status'] } : null,
      heldAfterwards: held,
    }, null, 1));
    if (crashed) process.stderr.write(`controller stderr tail:\n${stderr}\n`);
    process.exitCode = crashed || peers.size !== 1 ? 1 : 0;
  } finally {
    try { sh('ovs-vsctl', ['--if-exists', 'del-br', br]); } catch { /* already gone */ }
    if (!crashed) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
