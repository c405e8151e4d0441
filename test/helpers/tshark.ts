/**
 * Runs tshark (Wireshark's CLI) on a capture and returns its dissection of every OpenFlow message, the
 * independent reference that the capture tests compare `rivulet decode` against.
 */
import { spawnSync } from 'node:child_process';

/** One OpenFlow message as tshark dissected it. `tree` is the openflow_v4/openflow_v1 layer object. */
export interface TsharkMessage {
  /** the frame in which tshark completed the message (its last segment) */
  readonly frame: number;
  /** "ip:port" of the TCP segment */
  readonly src: string;
  readonly dst: string;
  readonly version: number;
  readonly type: number;
  readonly xid: number;
  readonly length: number;
  readonly tree: Record<string, unknown>;
}

/** Whether a usable tshark is on PATH. */
export function tsharkAvailable(): boolean {
  const r = spawnSync('tshark', ['-v'], { encoding: 'utf8', timeout: 20000 });
  return r.status === 0;
}

function runTshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 120000 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

type Layers = Record<string, unknown>;

const str = (v: unknown): string => (Array.isArray(v) ? String(v[0]) : String(v));

/**
 * Every OpenFlow message of `file`, in tshark's order, decoding TCP `port` as OpenFlow. Messages of
 * OpenFlow 1.0 come from tshark's openflow_v1 layer, the rest from openflow_v4.
 */
export function tsharkMessages(file: string, port: number): TsharkMessage[] {
  const json = runTshark([
    '-r', file, '-d', `tcp.port==${port},openflow`, '-T', 'json', '--no-duplicate-keys',
    '-J', 'frame ip ipv6 tcp openflow_v1 openflow_v4',
  ]);
  const packets = JSON.parse(json) as { _source: { layers: Layers } }[];
  const out: TsharkMessage[] = [];
  for (const p of packets) {
    const l = p._source.layers;
    const frame = Number(str((l['frame'] as Layers)['frame.number']));
    const tcp = l['tcp'] as Layers | undefined;
    const ip = (l['ip'] ?? l['ipv6']) as Layers | undefined;
    if (!tcp || !ip) continue;
    const v6 = l['ipv6'] !== undefined;
    const addr = (k: string): string => str(ip[v6 ? `ipv6.${k}` : `ip.${k}`]);
    const ep = (a: string, port: string): string => (v6 ? `[${a}]:${port}` : `${a}:${port}`);
    const src = ep(addr('src'), str(tcp['tcp.srcport']));
    const dst = ep(addr('dst'), str(tcp['tcp.dstport']));
    for (const [layer, pre, typeKey] of [['openflow_v1', 'openflow.', 'openflow_1_0.type'], ['openflow_v4', 'openflow_v4.', 'openflow_v4.type']] as const) {
      const v = l[layer];
      if (v === undefined) continue;
      for (const tree of (Array.isArray(v) ? v : [v]) as Record<string, unknown>[]) {
        out.push({
          frame, src, dst, tree,
          version: Number(str(tree[`${pre}version`])),
          type: Number(str(tree[typeKey])),
          xid: Number(str(tree[`${pre}xid`])),
          length: Number(str(tree[`${pre}length`])),
        });
      }
    }
  }
  return out;
}

/** Frame numbers that tshark flags as malformed (`_ws.malformed`). */
export function tsharkMalformedFrames(file: string, port: number): number[] {
  const out = runTshark(['-r', file, '-d', `tcp.port==${port},openflow`, '-Y', '_ws.malformed', '-T', 'fields', '-e', 'frame.number']);
  return out.split('\n').filter((s) => s.trim() !== '').map(Number);
}

/** Frame numbers with expert-info entries of severity error (malformed, or protocol errors). */
export function tsharkExpertErrorFrames(file: string, port: number): number[] {
  const out = runTshark(['-r', file, '-d', `tcp.port==${port},openflow`, '-Y', '_ws.expert.severity == error', '-T', 'fields', '-e', 'frame.number']);
  return out.split('\n').filter((s) => s.trim() !== '').map(Number);
}

/** tshark's own names for the values of one of its fields: code → name and name → code. */
export interface TsharkValueNames {
  readonly byCode: ReadonlyMap<number, string>;
  readonly byName: ReadonlyMap<string, number>;
}

let valueNames: Map<string, TsharkValueNames> | undefined;

/**
 * The value strings tshark's dissectors declare for `field` (`tshark -G values`, lines
 * `V<TAB>field<TAB>code<TAB>name`), e.g. `openflow_v4.oxm.field` 13 → `OFPXMT_OFB_TCP_SRC`. Read once per
 * process. This is tshark's own naming, independent of Rivulet's codec tables. A name is its first word
 * (tshark writes `OFPIT_EXPERIMENTER = 0xFFFF`).
 */
export function tsharkValueNames(field: string): TsharkValueNames {
  if (!valueNames) {
    valueNames = new Map();
    const byField = new Map<string, { byCode: Map<number, string>; byName: Map<string, number> }>();
    for (const line of runTshark(['-G', 'values']).split('\n')) {
      const cols = line.split('\t');
      if (cols[0] !== 'V' || cols.length < 4 || !/^-?\d+$/.test(cols[2]!)) continue;
      const name = cols[3]!.trim().split(/\s+/)[0]!;
      const code = Number(cols[2]);
      let t = byField.get(cols[1]!);
      if (!t) byField.set(cols[1]!, (t = { byCode: new Map(), byName: new Map() }));
      if (!t.byCode.has(code)) t.byCode.set(code, name);
      if (!t.byName.has(name)) t.byName.set(name, code);
    }
    for (const [k, v] of byField) valueNames.set(k, v);
  }
  const names = valueNames.get(field);
  if (!names || names.byCode.size === 0) throw new Error(`tshark -G values lists no value names for ${field}`);
  return names;
}
