/**
 * Reads `ovs-ofctl -O OpenFlow13 dump-flows | dump-meters | dump-groups` text, and puts both that text
 * and Rivulet's own objects (FlowStats, MeterConfig, GroupDesc) into one canonical form, so a test can
 * assert field by field that what OVS reports, what the controller reads back and what was installed
 * agree. Canonical values are strings: integers decimal, 64-bit values and metadata hex, IPv4 dotted,
 * MACs lower-case; a mask that is all ones is dropped (an exact match).
 */
import type { Action, GroupDesc, Instruction, Match, MeterBand, MeterConfig } from '../../openflow/codec/index.js';

export interface CanonFlow {
  readonly table: number;
  readonly priority: number;
  readonly cookie: string;
  /** OXM field name → value[/mask] */
  readonly match: Record<string, string>;
  /** instruction (meter, apply, write, clear, write_metadata, goto) → its argument */
  readonly instructions: Record<string, string>;
}

export interface CanonMeter {
  readonly meterId: number;
  readonly flags: string;
  readonly bands: readonly string[];
}

export interface CanonGroup {
  readonly groupId: number;
  readonly type: string;
  readonly buckets: readonly string[];
}

const ANY = 0xffffffff;
const CONTROLLER = 0xfffffffd;
const GROUP_TYPES = ['all', 'select', 'indirect', 'ff'];
const METER_FLAGS: [number, string][] = [[1, 'kbps'], [2, 'pktps'], [4, 'burst'], [8, 'stats']];

/* ------------------------------------------------------------ from Rivulet objects */

function hex(v: bigint | number): string {
  return `0x${BigInt(v).toString(16)}`;
}

function isAllOnes(field: string, mask: string | number | bigint): boolean {
  if (typeof mask === 'string') return mask === '255.255.255.255' || /^ff(:ff){5}$/i.test(mask);
  if (field === 'metadata' || field === 'tunnel_id') return BigInt(mask) === 0xffffffffffffffffn;
  return false;
}

function canonValue(field: string, v: string | number | bigint): string {
  if (typeof v === 'string') return v.toLowerCase();
  return field === 'metadata' || field === 'tunnel_id' ? hex(v) : String(v);
}

/** OXM list → { field: "value[/mask]" }. */
export function canonMatch(match: Match): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of match) {
    if (f.field === 'other') throw new Error('non-basic OXM in a test flow');
    const mask = f.mask === undefined || isAllOnes(f.field, f.mask) ? '' : `/${canonValue(f.field, f.mask)}`;
    out[f.field] = `${canonValue(f.field, f.value)}${mask}`;
  }
  return out;
}

export function canonAction(a: Action): string {
  switch (a.type) {
    case 'OFPAT_OUTPUT':
      return a.port === CONTROLLER ? `controller:${a.maxLen}` : `output:${a.port}`;
    case 'OFPAT_GROUP': return `group:${a.groupId}`;
    case 'OFPAT_SET_QUEUE': return `set_queue:${a.queueId}`;
    case 'OFPAT_DEC_NW_TTL': return 'dec_nw_ttl';
    case 'OFPAT_PUSH_VLAN': return `push_vlan:${hex(a.ethertype)}`;
    case 'OFPAT_POP_VLAN': return 'pop_vlan';
    case 'OFPAT_SET_FIELD': {
      const m = canonMatch([a.field]);
      const [k, v] = Object.entries(m)[0]!;
      return `set_field:${k}=${v}`;
    }
    default:
      throw new Error(`action ${a.type} not used by these tests`);
  }
}

export function canonInstructions(list: readonly Instruction[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of list) {
    switch (i.type) {
      case 'OFPIT_METER': out['meter'] = String(i.meterId); break;
      case 'OFPIT_GOTO_TABLE': out['goto'] = String(i.tableId); break;
      case 'OFPIT_WRITE_METADATA': out['write_metadata'] = `${hex(i.metadata)}/${hex(i.metadataMask)}`; break;
      case 'OFPIT_APPLY_ACTIONS': out['apply'] = i.actions.map(canonAction).join(','); break;
      case 'OFPIT_WRITE_ACTIONS': out['write'] = i.actions.map(canonAction).join(','); break;
      case 'OFPIT_CLEAR_ACTIONS': out['clear'] = ''; break;
      default: throw new Error(`instruction ${i.type} not used by these tests`);
    }
  }
  return out;
}

function canonBand(b: MeterBand): string {
  if (b.type !== 'OFPMBT_DROP') throw new Error(`band ${b.type} not used by these tests`);
  return `drop rate=${b.rate} burst_size=${b.burstSize}`;
}

export function canonMeterConfig(m: MeterConfig): CanonMeter {
  const flags = METER_FLAGS.filter(([bit]) => m.flags & bit).map(([, w]) => w).join(' ');
  return { meterId: m.meterId, flags, bands: m.bands.map(canonBand) };
}

export function canonGroupDesc(g: GroupDesc): CanonGroup {
  const buckets = g.buckets.map((b) => {
    const watch = `${b.watchPort === ANY ? '' : ` watch_port=${b.watchPort}`}${b.watchGroup === ANY ? '' : ` watch_group=${b.watchGroup}`}`;
    return `weight=${b.weight}${watch} actions=${b.actions.map(canonAction).join(',')}`;
  });
  return { groupId: g.groupId, type: GROUP_TYPES[g.groupType] ?? String(g.groupType), buckets };
}

/* ------------------------------------------------------------ from ovs-ofctl text */

/** Splits at commas outside parentheses. */
function topLevelSplit(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

const SHORTHAND: Record<string, Record<string, string>> = {
  ip: { eth_type: '2048' },
  tcp: { eth_type: '2048', ip_proto: '6' },
  udp: { eth_type: '2048', ip_proto: '17' },
  icmp: { eth_type: '2048', ip_proto: '1' },
  arp: { eth_type: '2054' },
  ipv6: { eth_type: '34525' },
};

const STAT_KEYS = new Set(['cookie', 'duration', 'table', 'n_packets', 'n_bytes', 'priority', 'idle_age', 'hard_age',
  'idle_timeout', 'hard_timeout', 'importance', 'send_flow_rem', 'reset_counts', 'no_packet_counts', 'no_byte_counts']);

function prefixMask(bits: number): string {
  const m = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 0xff).join('.');
}

function ipv4(v: string): string {
  const [addr, mask] = v.split('/');
  if (mask === undefined) return addr!;
  const m = /^\d+$/.test(mask) ? prefixMask(Number(mask)) : mask;
  return m === '255.255.255.255' ? addr! : `${addr}/${m}`;
}

function intMasked(v: string): string {
  const [a, m] = v.split('/');
  return m === undefined ? String(Number(a)) : `${Number(a)}/${Number(m)}`;
}

/** One ovs-ofctl match token (key=value) → OXM name and canonical value. */
function ovsMatchField(key: string, value: string, m: Record<string, string>): [string, string] {
  const l4 = m['ip_proto'] === '17' ? 'udp' : m['ip_proto'] === '132' ? 'sctp' : 'tcp';
  switch (key) {
    case 'in_port': return ['in_port', value];
    case 'dl_type': return ['eth_type', String(Number(value))];
    case 'dl_src': return ['eth_src', value.toLowerCase()];
    case 'dl_dst': return ['eth_dst', value.toLowerCase()];
    case 'dl_vlan': return ['vlan_vid', String(0x1000 | Number(value))];
    case 'vlan_tci': return ['vlan_vid', intMasked(value)];
    case 'nw_proto': return ['ip_proto', value];
    case 'nw_src': return ['ipv4_src', ipv4(value)];
    case 'nw_dst': return ['ipv4_dst', ipv4(value)];
    case 'nw_tos': return ['ip_dscp', String(Number(value) >> 2)];
    case 'ip_dscp': return ['ip_dscp', value];
    case 'tp_src': return [`${l4}_src`, value];
    case 'tp_dst': return [`${l4}_dst`, value];
    case 'arp_op': return ['arp_op', value];
    case 'metadata': return ['metadata', value.split('/').map((x) => hex(BigInt(x))).join('/')];
    default: throw new Error(`ovs-ofctl match field ${key} not understood by these tests`);
  }
}

const OVS_SET_FIELD_NAMES: Record<string, string> = { ip_src: 'ipv4_src', ip_dst: 'ipv4_dst', eth_src: 'eth_src', eth_dst: 'eth_dst' };

/** One ovs-ofctl action token → canonical action string. */
function ovsAction(tok: string): string {
  const [name, arg] = [tok.split(':')[0]!, tok.slice(tok.indexOf(':') + 1)];
  switch (name) {
    case 'output': return `output:${arg}`;
    case 'CONTROLLER': return `controller:${arg}`;
    case 'group': return `group:${arg}`;
    case 'set_queue': return `set_queue:${arg}`;
    case 'dec_ttl': return 'dec_nw_ttl';
    case 'push_vlan': return `push_vlan:${hex(Number(arg))}`;
    case 'pop_vlan': return 'pop_vlan';
    case 'set_field': {
      const [value, field] = arg.split('->') as [string, string];
      const oxm = OVS_SET_FIELD_NAMES[field] ?? field;
      return `set_field:${oxm}=${canonMatchText(oxm, value)}`;
    }
    default: throw new Error(`ovs-ofctl action ${tok} not understood by these tests`);
  }
}

function canonMatchText(field: string, value: string): string {
  return /^\d+$/.test(value) ? String(Number(value)) : field === 'metadata' ? hex(BigInt(value)) : value.toLowerCase();
}

function ovsInstructions(actions: string): Record<string, string> {
  const out: Record<string, string> = {};
  const apply: string[] = [];
  for (const tok of topLevelSplit(actions)) {
    if (tok.startsWith('meter:')) out['meter'] = tok.slice(6);
    else if (tok.startsWith('goto_table:')) out['goto'] = tok.slice(11);
    else if (tok.startsWith('write_metadata:')) out['write_metadata'] = tok.slice(15).split('/').map((x) => hex(BigInt(x))).join('/');
    else if (tok.startsWith('write_actions(')) out['write'] = topLevelSplit(tok.slice(14, -1)).map(ovsAction).join(',');
    else if (tok === 'clear_actions') out['clear'] = '';
    else if (tok !== 'drop') apply.push(ovsAction(tok));
  }
  if (apply.length) out['apply'] = apply.join(',');
  return out;
}

/** Parses `dump-flows` output (one flow a line after the reply header). */
export function parseDumpFlows(text: string): CanonFlow[] {
  return text.split('\n').filter((l) => l.includes('cookie=')).map((line) => {
    const [left, actions] = line.trim().split(' actions=') as [string, string];
    const stats: Record<string, string> = {};
    const match: Record<string, string> = {};
    for (const tok of left.replace(/, /g, ',').split(',')) {
      const eq = tok.indexOf('=');
      const key = eq < 0 ? tok : tok.slice(0, eq);
      const value = eq < 0 ? '' : tok.slice(eq + 1);
      if (STAT_KEYS.has(key)) stats[key] = value;
      else if (SHORTHAND[key]) Object.assign(match, SHORTHAND[key]);
      else {
        const [f, v] = ovsMatchField(key, value, match);
        match[f] = v;
      }
    }
    return {
      table: Number(stats['table'] ?? 0),
      priority: Number(stats['priority'] ?? 32768),
      cookie: hex(BigInt(stats['cookie'] ?? '0')),
      match,
      instructions: ovsInstructions(actions),
    };
  });
}

/** Parses `dump-meters` output: "meter=N flags… bands=" then one "type=drop rate=R burst_size=B" per band. */
export function parseDumpMeters(text: string): CanonMeter[] {
  const body = text.split('\n').filter((l) => !l.startsWith('OFPST_')).join('\n');
  return body.split(/^meter=/m).filter((s) => s.trim() !== '').map((chunk) => {
    const [head, ...bandLines] = chunk.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    const [id, ...words] = head!.replace(/ bands=$/, '').split(' ');
    const bands = bandLines.map((l) => l.replace(/^type=/, ''));
    return { meterId: Number(id), flags: words.join(' '), bands };
  });
}

/** Parses `dump-groups` output: one "group_id=N,type=T,bucket=…" a line. */
export function parseDumpGroups(text: string): CanonGroup[] {
  return text.split('\n').filter((l) => l.includes('group_id=')).map((line) => {
    const [head, ...bucketTexts] = line.trim().split(',bucket=');
    const kv = Object.fromEntries(head!.split(',').map((t) => t.split('=') as [string, string]));
    const buckets = bucketTexts.map((b) => {
      const [props, actions] = b.split(',actions=') as [string, string];
      const p = Object.fromEntries(props.split(',').map((t) => t.split(':') as [string, string]));
      const watch = `${p['watch_port'] ? ` watch_port=${p['watch_port']}` : ''}${p['watch_group'] ? ` watch_group=${p['watch_group']}` : ''}`;
      return `weight=${p['weight'] ?? '1'}${watch} actions=${topLevelSplit(actions).map(ovsAction).join(',')}`;
    });
    return { groupId: Number(kv['group_id']), type: kv['type']!, buckets };
  });
}
