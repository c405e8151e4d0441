/**
 * Field-by-field comparison of a decoded OpenFlow record with tshark's dissection of the same message.
 *
 * tshark's tree is flattened to (field name → values in tree order); each field name maps to a selection
 * of objects in our decoded message (in depth-first order) and a property of those objects. Matches
 * (every OXM: class, field, has-mask, value, mask) and set-field actions are compared as lists. Field
 * names without a mapping are counted in `notCompared`, so a test can print what was not checked.
 *
 * Nothing here goes through the codec's own tables: an OXM field, an action, instruction or meter-band
 * type of ours is compared by NAME with the name tshark gives the code on the wire (`tshark -G values`,
 * e.g. field 13 is `OFPXMT_OFB_TCP_SRC`), so a codec whose table swaps two codes disagrees with tshark.
 */
import type { OpenFlowRecord } from '../../openflow/capture-stream.js';
import { tsharkValueNames, type TsharkMessage } from './tshark.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;
type Sel = (m: Obj) => Obj[];
type Get = (o: Obj) => unknown;

/** OFPMP_* codes (OpenFlow 1.3.5 §7.3.5, enum ofp_multipart_type), written out independently of the codec. */
const MP_CODES: Record<string, number> = {
  OFPMP_DESC: 0, OFPMP_FLOW: 1, OFPMP_AGGREGATE: 2, OFPMP_TABLE: 3, OFPMP_PORT_STATS: 4, OFPMP_QUEUE: 5, OFPMP_GROUP: 6,
  OFPMP_GROUP_DESC: 7, OFPMP_GROUP_FEATURES: 8, OFPMP_METER: 9, OFPMP_METER_CONFIG: 10, OFPMP_METER_FEATURES: 11,
  OFPMP_TABLE_FEATURES: 12, OFPMP_PORT_DESC: 13, OFPMP_EXPERIMENTER: 0xffff,
};
/** OFPTFPT_* codes (OpenFlow 1.3.5 §7.3.5.5.2, enum ofp_table_feature_prop_type). */
const TFPT_CODES: Record<string, number> = {
  OFPTFPT_INSTRUCTIONS: 0, OFPTFPT_INSTRUCTIONS_MISS: 1, OFPTFPT_NEXT_TABLES: 2, OFPTFPT_NEXT_TABLES_MISS: 3,
  OFPTFPT_WRITE_ACTIONS: 4, OFPTFPT_WRITE_ACTIONS_MISS: 5, OFPTFPT_APPLY_ACTIONS: 6, OFPTFPT_APPLY_ACTIONS_MISS: 7,
  OFPTFPT_MATCH: 8, OFPTFPT_WILDCARDS: 10, OFPTFPT_WRITE_SETFIELD: 12, OFPTFPT_WRITE_SETFIELD_MISS: 13,
  OFPTFPT_APPLY_SETFIELD: 14, OFPTFPT_APPLY_SETFIELD_MISS: 15, OFPTFPT_EXPERIMENTER: 0xfffe, OFPTFPT_EXPERIMENTER_MISS: 0xffff,
};
const QT_CODES: Record<string, number> = { OFPQT_MIN_RATE: 1, OFPQT_MAX_RATE: 2, OFPQT_EXPERIMENTER: 0xffff };
const GROUP_TYPE_INDEX: Record<string, number> = { all: 0, select: 1, indirect: 2, ff: 3 };

/** Objects under `root` (itself included) satisfying `pred`, depth-first in property order. */
function deepObjects(root: unknown, pred: (o: Obj) => boolean, out: Obj[] = []): Obj[] {
  if (root === null || typeof root !== 'object' || root instanceof Uint8Array) return out;
  if (!Array.isArray(root) && pred(root)) out.push(root);
  for (const v of Array.isArray(root) ? root : Object.values(root)) deepObjects(v, pred, out);
  return out;
}

const top: Sel = (m) => [m];
const body: Sel = (m) => (m.body ? [m.body] : []);
const bodyArr = (k: string): Sel => (m) => m.body?.[k] ?? [];
const deep = (pred: (o: Obj) => boolean): Sel => (m) => deepObjects(m, pred);
const typed = (prefix: string): Sel => deep((o) => typeof o.type === 'string' && o.type.startsWith(prefix));
const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** tshark struct name (second component of openflow_v4.<struct>.<field>) → our objects. */
const STRUCTS: Record<string, Sel> = {
  flowmod: top, packet_in: top, packet_out: top, flow_removed: top, groupmod: top, metermod: top, portmod: top, tablemod: top,
  role_request: top, role_reply: top, error: top, experimenter: top, switch_features: top, switch_config: top, echo: top,
  queue_get_config_request: top, queue_get_config_reply: top, port_status: top, multipart_request: top, multipart_reply: top,
  flow_stats_request: body, aggregate_stats_request: body, port_stats_request: body, queue_stats_request: body,
  group_stats_request: body, meter_stats_request: body, meter_config_request: body, aggregate_stats: body,
  switch_description: body, group_features: body, meter_features: body, features: body,
  // tshark 4.0 also labels group-stats durations "flow_stats.duration_*"
  flow_stats: (m) => m.body?.flows ?? m.body?.groups ?? [],
  table_stats: bodyArr('tables'), table_features: bodyArr('tables'),
  // tshark 4.0 labels the queue-stats tx_errors field "port_stats.tx_errors" and misspells "quee_stats.tx_packets"
  port_stats: (m) => m.body?.ports ?? m.body?.queues ?? [],
  queue_stats: bodyArr('queues'), quee_stats: bodyArr('queues'),
  group_stats: bodyArr('groups'), group_desc: bodyArr('groups'), meter_stats: bodyArr('meters'), meter_config: bodyArr('meters'),
  port: deep((o) => 'hwAddr' in o && 'currSpeed' in o),
  bucket: deep((o) => 'watchPort' in o),
  bucket_counter: (m) => (m.body?.groups ?? []).flatMap((g: Obj) => g.bucketStats ?? []),
  meter_band: typed('OFPMBT_'),
  meter_band_stats: (m) => (m.body?.meters ?? []).flatMap((x: Obj) => x.bandStats ?? []),
  packet_queue: deep((o) => 'queueId' in o && 'properties' in o),
  queue_prop: typed('OFPQT_'),
  hello_element: (m) => m.elements ?? [],
  action_experimenter: deep((o) => o.type === 'OFPAT_EXPERIMENTER'),
  table_feature_prop: (m) => (m.body?.tables ?? []).flatMap((t: Obj) => t.properties ?? []),
};

/** The code tshark gives the name `name` (e.g. OFPAT_OUTPUT) among the values of its field `field`. */
const tsharkCode = (field: string, name: string): number | undefined => tsharkValueNames(field).byName.get(name);

/** Our OXM field name of tshark's basic field `code` (OFPXMT_OFB_TCP_SRC → tcp_src; tshark 4 writes OFPXMT_OFP_MPLS_BOS). */
const tsharkOxmName = (code: number): string | undefined =>
  tsharkValueNames('openflow_v4.oxm.field').byCode.get(code)?.replace(/^OFPXMT_OF[BP]_/, '').toLowerCase();

/** An IPv6 address in one canonical text form (WHATWG URL host serialization; not the codec's formatter). */
const canonIpv6 = (a: string): string => {
  try {
    return new URL(`http://[${a}]/`).hostname;
  } catch {
    return a;
  }
};

const mpCode: Get = (o) => (o.body.mpType === 'unknown' ? o.body.mpTypeCode : MP_CODES[o.body.mpType]);

/** "struct.field" whose property is not the camelCase of the field, or needs computing. */
const FIELD_OVERRIDES: Record<string, Get> = {
  'port.sate': (o) => o.state, // tshark's spelling
  'port.current': (o) => o.curr,
  'error.type': (o) => o.errType,
  'table_feature_prop.type': (o) => (o.type === 'unknown' ? o.propType : TFPT_CODES[o.type]),
  'error.data': (o) => Buffer.from(o.data).toString('latin1').replace(/\0+$/, ''),
  'groupmod.type': (o) => o.groupType,
  'group_desc.type': (o) => o.groupType,
  'table_stats.match_count': (o) => o.matchedCount,
  'port_stats.rx_frame_error': (o) => o.rxFrameErr,
  'port_stats.rx_over_error': (o) => o.rxOverErr,
  'port_stats.rx_crc_error': (o) => o.rxCrcErr,
  'multipart_request.type': mpCode,
  'multipart_reply.type': mpCode,
  'meter_band.type': (o) => tsharkCode('openflow_v4.meter_band.type', o.type),
  'queue_prop.property': (o) => QT_CODES[o.type],
  'hello_element.type': (o) => (o.type === 'OFPHET_VERSIONBITMAP' ? 1 : o.elementType),
};

const SKIP_FIELDS = new Set(['pad', 'pad2', 'pad3', 'length', 'len', 'acts_len', 'undecoded']);
const HEADER_KEYS = new Set(['version', 'type', 'length', 'xid']);

/** Mapping of one tshark field name, or undefined when it is not compared. */
function mapKey(key: string): { sel: Sel; get: Get } | 'skip' | undefined {
  const p = key.split('.');
  if (p[0] !== 'openflow_v4') return undefined;
  if (p.length === 2 && p[1] === 'switch_features_reserved') return { sel: top, get: (o) => o.reserved };
  if (p.length === 2) return HEADER_KEYS.has(p[1]!) ? 'skip' : undefined;
  const [, struct, field, sub] = p as [string, string, string, string | undefined];
  if (SKIP_FIELDS.has(p[p.length - 1]!)) return 'skip';
  if (struct === 'action' && field === 'type') {
    return { sel: deep((o) => (typeof o.type === 'string' && o.type.startsWith('OFPAT_')) || typeof o.actionType === 'number'), get: (o) => o.actionType ?? tsharkCode('openflow_v4.action.type', o.type) };
  }
  if (struct === 'instruction' && field === 'type') {
    return { sel: deep((o) => (typeof o.type === 'string' && o.type.startsWith('OFPIT_')) || typeof o.instructionType === 'number'), get: (o) => o.instructionType ?? tsharkCode('openflow_v4.instruction.type', o.type) };
  }
  if (p.length === 4 && (struct === 'action' || struct === 'instruction')) {
    const kind = `${struct === 'action' ? 'OFPAT_' : 'OFPIT_'}${field.toUpperCase()}`;
    const prop: Record<string, string> = { ttl: field === 'set_mpls_ttl' ? 'mplsTtl' : 'nwTtl', value: 'metadata', mask: 'metadataMask' };
    return { sel: deep((o) => o.type === kind), get: (o) => o[prop[sub!] ?? camel(sub!)] };
  }
  if (p.length === 4) return mapDeepKey(struct, field, sub!);
  if (p.length !== 3) return undefined;
  const sel = STRUCTS[struct];
  if (!sel) return undefined;
  const get = FIELD_OVERRIDES[`${struct}.${field}`] ?? ((o: Obj) => o[camel(field)]);
  return { sel, get };
}

function mapDeepKey(struct: string, field: string, sub: string): { sel: Sel; get: Get } | undefined {
  const k = `${struct}.${field}.${sub}`;
  // Wireshark 4.0 (packet-openflow_v4.c) adds this byte field with length `length - 20` at the start of
  // the data, which is `length - 12` bytes long: the field is 8 bytes short. Compare what it shows.
  if (k === 'error.data.body') return { sel: top, get: (o) => o.data.subarray(0, Math.max(0, o.data.length - 8)) };
  if (k === 'table_feature_prop.next_tables.next_table_id') {
    return { sel: (m) => (m.body?.tables ?? []).flatMap((t: Obj) => t.properties ?? []).filter((p: Obj) => Array.isArray(p.tableIds)).flatMap((p: Obj) => p.tableIds.map((id: number) => ({ id }))), get: (o) => o.id };
  }
  if (k === 'hello_element.version.bitmap') return { sel: STRUCTS['hello_element']!, get: (o) => o.bitmaps?.[0] };
  if (k === 'meter_band.dscp_remark.prec_level') return { sel: deep((o) => o.type === 'OFPMBT_DSCP_REMARK'), get: (o) => o.precLevel };
  if (struct === 'queue_prop' && sub === 'rate') return { sel: deep((o) => o.type === `OFPQT_${field.toUpperCase()}`), get: (o) => o.rate };
  if (struct === 'async_config' && (sub === 'master' || sub === 'slave')) return { sel: top, get: (o) => o[camel(field)]?.[sub === 'master' ? 0 : 1] };
  if (k.startsWith('group_stats.max_groups.') && sub in GROUP_TYPE_INDEX) return { sel: body, get: (o) => o.maxGroups?.[GROUP_TYPE_INDEX[sub]!] };
  if (k.startsWith('group_features.actions.') && sub in GROUP_TYPE_INDEX) return { sel: body, get: (o) => o.actions?.[GROUP_TYPE_INDEX[sub]!] };
  return undefined;
}

interface Flat {
  leaves: Map<string, string[]>;
  matches: Obj[][];
  setFields: Obj[];
  /** OXM ids of table-feature properties (headers only) */
  oxmIds: Obj[];
}

/** Flattens tshark's tree: leaves by name; OXM lists of matches and of set-field actions apart. */
function flatten(node: unknown, parentKey: string, acc: Flat): void {
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k.endsWith('_tree') || k.startsWith('_ws') || k === 'Data') continue;
    const items = Array.isArray(v) ? v : [v];
    if (k === 'Match') {
      for (const m of items) acc.matches.push(asArray((m as Obj)?.['OXM field']));
    } else if (k === 'OXM field' && parentKey === 'Action') {
      acc.setFields.push(...items);
    } else if (k === 'OXM ID') {
      acc.oxmIds.push(...items);
    } else if (items.some((x) => x !== null && typeof x === 'object')) {
      for (const x of items) flatten(x, k, acc);
    } else {
      const list = acc.leaves.get(k) ?? [];
      list.push(...items.map(String));
      acc.leaves.set(k, list);
    }
  }
}

const asArray = (v: unknown): Obj[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const colonHex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** Compares one value of ours with tshark's text for it. */
function same(ours: unknown, theirs: string): boolean {
  if (ours instanceof Uint8Array) return colonHex(ours) === theirs.toLowerCase() || (ours.length === 0 && theirs === '');
  if (typeof ours === 'number' || typeof ours === 'bigint') {
    const t = theirs.trim();
    const parsed = /^0x[0-9a-f]+$/i.test(t) || /^\d+$/.test(t) ? BigInt(t)
      : /^([0-9a-f]{2}:)*[0-9a-f]{2}$/i.test(t) ? BigInt(`0x${t.replace(/:/g, '')}`) : undefined;
    return parsed !== undefined && parsed === BigInt(ours);
  }
  if (typeof ours === 'string') return ours === theirs || ours.toLowerCase() === theirs.toLowerCase();
  return false;
}

/** Compares one OXM TLV of ours with tshark's "OXM field" object; returns a difference or undefined. */
function compareOxm(ours: Obj, t: Obj): string | undefined {
  const tClass = Number(t['openflow_v4.oxm.class']);
  const tField = Number(t['openflow_v4.oxm.field']);
  const tHm = t['openflow_v4.oxm.hm'] === '1' || t['openflow_v4.oxm.hm'] === 'True';
  if (ours.field === 'other') {
    const ok = ours.oxmClass === tClass && ours.fieldCode === tField && ours.hasMask === tHm;
    return ok ? undefined : `oxm other ${ours.oxmClass}/${ours.fieldCode} vs tshark ${tClass}/${tField}`;
  }
  if (tClass !== 0x8000 || tsharkOxmName(tField) !== ours.field || (ours.mask !== undefined) !== tHm) {
    return `oxm ${ours.field}${ours.mask !== undefined ? '/masked' : ''} vs tshark class ${tClass} field ${tField} hm ${tHm}`;
  }
  let value: string | undefined;
  let mask: string | undefined;
  for (const [k, v] of Object.entries(t)) {
    if (k === 'openflow_v4.oxm.value_vlan_vid') {
      const present = t['openflow_v4.oxm.value_vlan_present'] === '1' || t['openflow_v4.oxm.value_vlan_present'] === 'True';
      value = String(Number(v) | (present ? 0x1000 : 0));
    } else if (k.startsWith('openflow_v4.oxm.value') && k !== 'openflow_v4.oxm.value_vlan_present') value = String(v);
    else if (k.endsWith('mask')) mask = String(v);
  }
  const ipv6 = /^ipv6_(src|dst|nd_target)$/.test(ours.field);
  const eq = (o: unknown, th: string | undefined): boolean => {
    if (th === undefined) return o === undefined;
    if (ipv6 && typeof o === 'string') return canonIpv6(o) === canonIpv6(th);
    return same(o, th);
  };
  if (!eq(ours.value, value)) return `oxm ${ours.field} value ${String(ours.value)} vs tshark ${value}`;
  if (ours.mask !== undefined && mask !== undefined && !eq(ours.mask, mask)) return `oxm ${ours.field} mask ${String(ours.mask)} vs tshark ${mask}`;
  return undefined;
}

/** Accumulates comparison counts across messages. */
export class TsharkComparer {
  /** tshark field name → number of values compared */
  readonly compared = new Map<string, number>();
  /** tshark field name → number of values seen but not compared */
  readonly notCompared = new Map<string, number>();

  private count(map: Map<string, number>, key: string, n: number): void {
    map.set(key, (map.get(key) ?? 0) + n);
  }

  /** Differences between `r` and tshark's `t` (empty when they agree). */
  compare(r: OpenFlowRecord, t: TsharkMessage): string[] {
    const diffs: string[] = [];
    for (const [name, ours, theirs] of [['version', r.version, t.version], ['type', r.typeCode, t.type], ['xid', r.xid, t.xid], ['length', r.length, t.length]] as const) {
      if (ours !== theirs) diffs.push(`header ${name}: ${ours} vs tshark ${theirs}`);
      this.count(this.compared, `header.${name}`, 1);
    }
    if (!r.message || t.version !== 4) return diffs;
    const flat: Flat = { leaves: new Map(), matches: [], setFields: [], oxmIds: [] };
    flatten(t.tree, '', flat);
    this.compareOxmLists('match', deepObjects(r.message, (o) => Array.isArray(o.match)).map((o) => o.match), flat.matches, diffs);
    this.compareOxmLists('set_field', [deepObjects(r.message, (o) => o.type === 'OFPAT_SET_FIELD').map((o) => o.field)], [flat.setFields], diffs);
    this.compareOxmIds(deepObjects(r.message, (o) => typeof o.oxmClass === 'number' && typeof o.length === 'number'), flat.oxmIds, diffs);
    for (const [key, values] of flat.leaves) {
      const m = mapKey(key);
      if (m === 'skip') continue;
      if (m === undefined) {
        this.count(this.notCompared, key, values.length);
        continue;
      }
      const ours = m.sel(r.message).map(m.get).filter((v) => v !== undefined);
      this.count(this.compared, key, values.length);
      if (ours.length !== values.length || !ours.every((v, i) => same(v, values[i]!))) {
        diffs.push(`${key}: ours [${ours.map((v) => (v instanceof Uint8Array ? colonHex(v) : String(v))).join(', ')}] vs tshark [${values.join(', ')}]`);
      }
    }
    return diffs;
  }

  /**
   * Table-feature OXM ids. An experimenter OXM id is 8 bytes (header + experimenter id, OpenFlow 1.3.5
   * §7.3.5.5.2); Wireshark 4.0 reads only the 4-byte header and then dissects the experimenter id as one
   * more OXM header, so each experimenter id is matched with that phantom entry as well.
   */
  private compareOxmIds(ours: Obj[], theirs: Obj[], diffs: string[]): void {
    const tuple = (t: Obj): string => JSON.stringify([Number(t?.['openflow_v4.oxm.class']), Number(t?.['openflow_v4.oxm.field']),
      t?.['openflow_v4.oxm.hm'] === '1' || t?.['openflow_v4.oxm.hm'] === 'True', Number(t?.['openflow_v4.oxm.length'])]);
    let j = 0;
    for (const [i, o] of ours.entries()) {
      const want = [JSON.stringify([o.oxmClass, o.fieldCode, o.hasMask, o.length])];
      if (o.oxmClass === 0xffff && typeof o.experimenter === 'number') {
        const e = o.experimenter >>> 0;
        want.push(JSON.stringify([e >>> 16, (e >>> 9) & 0x7f, ((e >>> 8) & 1) === 1, e & 0xff]));
      }
      const got = want.map((_, k) => tuple(theirs[j + k]));
      if (got.join() !== want.join()) {
        diffs.push(`table-feature OXM id ${i}: ${want.join(' + ')} vs tshark ${got.join(' + ')}`);
        return;
      }
      j += want.length;
    }
    if (j !== theirs.length) diffs.push(`table-feature OXM ids: tshark has ${theirs.length - j} more`);
    if (ours.length > 0) this.count(this.compared, 'table-feature OXM id', ours.length);
  }

  private compareOxmLists(what: string, ours: Obj[][], theirs: Obj[][], diffs: string[]): void {
    const o = ours.filter((l) => l.length > 0);
    const t = theirs.filter((l) => l.length > 0);
    if (o.length !== t.length) {
      diffs.push(`${what}: ${o.length} non-empty OXM lists vs tshark ${t.length}`);
      return;
    }
    o.forEach((list, i) => {
      const tl = t[i]!;
      if (list.length !== tl.length) diffs.push(`${what} ${i}: ${list.length} OXMs vs tshark ${tl.length}`);
      else list.forEach((x, j) => {
        const d = compareOxm(x, tl[j]);
        if (d) diffs.push(`${what} ${i}.${j}: ${d}`);
      });
      this.count(this.compared, `${what} OXM`, list.length);
    });
  }
}
