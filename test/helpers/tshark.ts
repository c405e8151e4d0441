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
