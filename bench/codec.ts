/**
 * `npm run bench:codec` — encode and decode throughput (messages/s) of the OpenFlow 1.3 codec for three
 * representative messages: a rich FLOW_MOD, a PACKET_IN carrying a 128-byte frame, and a 100-entry
 * OFPMP_FLOW multipart reply. The baseline, measured in the same run on the same objects, is
 * JSON.stringify / JSON.parse (what a controller that shipped JSON instead of binary would pay); the
 * ratio column is codec ÷ JSON (higher is better for the codec). These machines are noisy: read ratios.
 */
import { performance } from 'node:perf_hooks';
import { decodeMessage, encodeMessage, type OfpMessage, type FlowStats } from '../openflow/codec/index.js';

const match = [
  { field: 'in_port', value: 3 },
  { field: 'eth_type', value: 0x0800 },
  { field: 'vlan_vid', value: 0x1000 | 42 },
  { field: 'ip_dscp', value: 46 },
  { field: 'ip_proto', value: 6 },
  { field: 'ipv4_src', value: '10.1.0.0', mask: '255.255.0.0' },
  { field: 'ipv4_dst', value: '10.2.3.4' },
  { field: 'tcp_src', value: 43211 },
  { field: 'tcp_dst', value: 5201 },
] as const;

const instructions = [
  { type: 'OFPIT_METER', meterId: 7 },
  {
    type: 'OFPIT_APPLY_ACTIONS',
    actions: [
      { type: 'OFPAT_SET_FIELD', field: { field: 'ip_dscp', value: 10 } },
      { type: 'OFPAT_SET_QUEUE', queueId: 2 },
      { type: 'OFPAT_OUTPUT', port: 4, maxLen: 0 },
    ],
  },
  { type: 'OFPIT_WRITE_METADATA', metadata: 0x1234n, metadataMask: 0xffffn },
  { type: 'OFPIT_GOTO_TABLE', tableId: 1 },
] as const;

const flowMod: OfpMessage = {
  type: 'OFPT_FLOW_MOD', xid: 1, cookie: 0xabcdn, cookieMask: 0n, tableId: 0, command: 0,
  idleTimeout: 10, hardTimeout: 0, priority: 1000, bufferId: 0xffffffff, outPort: 0xffffffff,
  outGroup: 0xffffffff, flags: 1, match, instructions,
};

const packetIn: OfpMessage = {
  type: 'OFPT_PACKET_IN', xid: 0, bufferId: 0xffffffff, totalLen: 128, reason: 0, tableId: 0,
  cookie: 0n, match: [{ field: 'in_port', value: 1 }], data: Buffer.alloc(128, 0x5a),
};

const flows: FlowStats[] = Array.from({ length: 100 }, (_, i) => ({
  tableId: 0, durationSec: 100 + i, durationNsec: 5000, priority: 1000, idleTimeout: 10, hardTimeout: 0,
  flags: 0, cookie: BigInt(i), packetCount: BigInt(i * 1000), byteCount: BigInt(i * 1_500_000),
  match, instructions,
}));
const flowReply: OfpMessage = { type: 'OFPT_MULTIPART_REPLY', xid: 9, flags: 0, body: { mpType: 'OFPMP_FLOW', flows } };

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns operations per second. */
function opsPerSecond(fn: () => unknown, ms = 700): number {
  for (let i = 0; i < 2000; i++) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

const bigintJson = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);

function row(name: string, msg: OfpMessage): string[] {
  const bytes = encodeMessage(msg);
  const check = decodeMessage(bytes);
  if (!check.ok) throw new Error(`${name} does not round-trip: ${check.error.message}`);
  const json = JSON.stringify(msg, bigintJson);
  const enc = opsPerSecond(() => encodeMessage(msg));
  const dec = opsPerSecond(() => decodeMessage(bytes));
  const jsonEnc = opsPerSecond(() => JSON.stringify(msg, bigintJson));
  const jsonDec = opsPerSecond(() => JSON.parse(json));
  const f = (x: number): string => Math.round(x).toLocaleString('en-US');
  return [name, String(bytes.length), f(enc), f(dec), f(jsonEnc), f(jsonDec),
    (enc / jsonEnc).toFixed(2), (dec / jsonDec).toFixed(2)];
}

const header = ['message', 'bytes', 'encode msg/s', 'decode msg/s', 'JSON.stringify/s', 'JSON.parse/s',
  'enc ÷ JSON', 'dec ÷ JSON'];
const rows = [row('FLOW_MOD (9 OXM, 4 instr.)', flowMod), row('PACKET_IN (128 B frame)', packetIn),
  row('MULTIPART_REPLY FLOW ×100', flowReply)];
console.log(`node ${process.version}, ${new Date().toISOString()}`);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
