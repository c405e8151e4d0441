/**
 * The in-memory flow tables of a fake OpenFlow 1.3 switch: pure data, no I/O, time passed in (`nowMs`).
 * Applies FLOW_MODs as OpenFlow 1.3.5 §6.4 says (ADD replaces an entry with the same match and priority;
 * MODIFY / DELETE non-strict act on every entry the request's match covers, the _STRICT forms on the
 * identical entry; cookie mask, out_port and out_group filter MODIFY/DELETE/stats; OFPTT_ALL deletes in
 * every table), looks packets up by highest priority, expires idle and hard timeouts, and produces
 * flow statistics (§7.3.5.2).
 *
 * Lookup is a tuple-space search: entries whose match has no masks are grouped by their set of fields,
 * each group a hash map from the packet's values of those fields; masked entries are scanned.
 */
import {
  OFPFC, OFPFF, OFPG, OFPP, OFPTT_ALL, oxmFieldByName,
  type FlowStats, type FlowStatsRequest, type Instruction, type Match, type MessageOf, type OxmBasicField, type OxmValue,
} from '../../openflow/codec/index.js';
import type { PacketFields } from './frames.js';

export type FlowMod = MessageOf<'OFPT_FLOW_MOD'>;

export interface FlowEntry {
  readonly tableId: number;
  readonly priority: number;
  readonly match: Match;
  /** canonical text of the match (fields sorted), identity together with priority */
  readonly matchKey: string;
  instructions: readonly Instruction[];
  cookie: bigint;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly flags: number;
  readonly installedMs: number;
  lastUsedMs: number;
  packetCount: bigint;
  byteCount: bigint;
}

/** Why an entry left the table (ofp_flow_removed_reason). */
export type RemovedReason = 0 /* IDLE */ | 1 /* HARD */ | 2 /* DELETE */;

export interface RemovedEntry {
  readonly entry: FlowEntry;
  readonly reason: RemovedReason;
}

/** Result of applying a FLOW_MOD: entries removed (for FLOW_REMOVED), or an OFPT_ERROR to send. */
export interface FlowModResult {
  readonly removed: readonly RemovedEntry[];
  readonly error?: { readonly errType: number; readonly code: number };
}

const OFPET_FLOW_MOD_FAILED = 5;
const OFPET_BAD_MATCH = 4;

/** Numeric value of an OXM field value (MAC 48-bit, IPv4 32-bit, IPv6 128-bit, integers). */
export function oxmBig(v: OxmValue): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (v.includes('.')) return v.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
  if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(v)) return BigInt(`0x${v.replaceAll(':', '')}`);
  return ipv6Big(v);
}

function ipv6Big(v: string): bigint {
  const [head, tail] = v.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function norm(v: OxmValue): string {
  return typeof v === 'string' ? v.toLowerCase() : String(v);
}

function basicFields(match: Match): OxmBasicField[] {
  const out: OxmBasicField[] = [];
  for (const f of match) if (f.field !== 'other') out.push(f);
  return out;
}

/** Canonical text of a match: fields sorted by name, masks included. */
export function matchKey(match: Match): string {
  return basicFields(match)
    .map((f) => `${f.field}=${norm(f.value)}${f.mask === undefined ? '' : `/${norm(f.mask)}`}`)
    .sort()
    .join(',');
}

/** The match of a FLOW_MOD as packet-like fields (unmasked fields only). */
export function matchFields(match: Match): PacketFields {
  const f: PacketFields = {};
  for (const m of basicFields(match)) {
    if (m.mask === undefined && typeof m.value !== 'bigint') f[m.field] = typeof m.value === 'string' ? m.value.toLowerCase() : m.value;
  }
  return f;
}

function fieldMatches(field: OxmBasicField, pkt: PacketFields): boolean {
  const v = pkt[field.field];
  if (v === undefined) return false;
  if (field.mask === undefined) return norm(v) === norm(field.value);
  const mask = oxmBig(field.mask);
  return (oxmBig(v) & mask) === (oxmBig(field.value) & mask);
}

/** Whether entry match `e` is at least as specific as request match `req` (non-strict MODIFY/DELETE). */
function covers(req: readonly OxmBasicField[], e: readonly OxmBasicField[]): boolean {
  for (const r of req) {
    const x = e.find((y) => y.field === r.field);
    if (!x) return false;
    const spec = oxmFieldByName(r.field);
    const full = spec ? (1n << BigInt(spec.bytes * 8)) - 1n : -1n;
    const rm = r.mask === undefined ? full : oxmBig(r.mask);
    const xm = x.mask === undefined ? full : oxmBig(x.mask);
    if ((xm & rm) !== rm) return false;
    if ((oxmBig(x.value) & rm) !== (oxmBig(r.value) & rm)) return false;
  }
  return true;
}

/** The output ports and groups an entry's instructions name (for out_port / out_group filters). */
function outputsOf(instructions: readonly Instruction[]): { ports: number[]; groups: number[] } {
  const ports: number[] = [];
  const groups: number[] = [];
  for (const ins of instructions) {
    if (ins.type !== 'OFPIT_APPLY_ACTIONS' && ins.type !== 'OFPIT_WRITE_ACTIONS') continue;
    for (const a of ins.actions) {
      if (a.type === 'OFPAT_OUTPUT') ports.push(a.port);
      else if (a.type === 'OFPAT_GROUP') groups.push(a.groupId);
    }
  }
  return { ports, groups };
}

interface Filter {
  readonly tableId: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly outPort: number;
  readonly outGroup: number;
  readonly match: Match;
}

function passesFilter(e: FlowEntry, f: Filter, req: readonly OxmBasicField[], strictKey: string | undefined, priority: number): boolean {
  if (f.tableId !== OFPTT_ALL && e.tableId !== f.tableId) return false;
  if (f.cookieMask !== 0n && (e.cookie & f.cookieMask) !== (f.cookie & f.cookieMask)) return false;
  if (strictKey !== undefined) {
    if (e.priority !== priority || e.matchKey !== strictKey) return false;
  } else if (!covers(req, basicFields(e.match))) return false;
  if (f.outPort !== OFPP.ANY || f.outGroup !== OFPG.ANY) {
    const outs = outputsOf(e.instructions);
    if (f.outPort !== OFPP.ANY && !outs.ports.includes(f.outPort)) return false;
    if (f.outGroup !== OFPG.ANY && !outs.groups.includes(f.outGroup)) return false;
  }
  return true;
}

/** One table: exact-match groups by field signature, plus a scanned list of masked entries. */
class Table {
  /** signature ("eth_type,in_port") → values ("2048|3") → entries, highest priority first */
  private readonly groups = new Map<string, { fields: OxmBasicField['field'][]; byValues: Map<string, FlowEntry[]> }>();
  private readonly masked: FlowEntry[] = [];
  /** where each entry lives: its group signature and value key, or undefined when in `masked` */
  private readonly where = new Map<FlowEntry, { sig: string; key: string } | undefined>();
  /** `${priority}#${matchKey}` → entry (ADD replaces the identical entry) */
  private readonly byIdentity = new Map<string, FlowEntry>();

  get size(): number {
    return this.where.size;
  }

  identical(priority: number, key: string): FlowEntry | undefined {
    return this.byIdentity.get(`${priority}#${key}`);
  }

  add(e: FlowEntry): void {
    this.byIdentity.set(`${e.priority}#${e.matchKey}`, e);
    const fields = basicFields(e.match);
    if (fields.some((f) => f.mask !== undefined) || fields.length !== e.match.length) {
      insertByPriority(this.masked, e);
      this.where.set(e, undefined);
      return;
    }
    const names = fields.map((f) => f.field).sort();
    const sig = names.join(',');
    let g = this.groups.get(sig);
    if (!g) this.groups.set(sig, (g = { fields: names, byValues: new Map() }));
    const byName = new Map(fields.map((f) => [f.field, norm(f.value)]));
    const key = names.map((n) => byName.get(n)).join('|');
    let list = g.byValues.get(key);
    if (!list) g.byValues.set(key, (list = []));
    insertByPriority(list, e);
    this.where.set(e, { sig, key });
  }

  remove(e: FlowEntry): void {
    if (!this.where.has(e)) return;
    const at = this.where.get(e);
    this.where.delete(e);
    this.byIdentity.delete(`${e.priority}#${e.matchKey}`);
    const list = at ? this.groups.get(at.sig)?.byValues.get(at.key) : this.masked;
    const i = list ? list.indexOf(e) : -1;
    if (list && i >= 0) list.splice(i, 1);
    if (at && list && list.length === 0) this.groups.get(at.sig)!.byValues.delete(at.key);
  }

  entries(): IterableIterator<FlowEntry> {
    return this.where.keys();
  }

  lookup(pkt: PacketFields): FlowEntry | undefined {
    let best: FlowEntry | undefined;
    for (const g of this.groups.values()) {
      let key = '';
      let ok = true;
      for (let i = 0; i < g.fields.length; i++) {
        const v = pkt[g.fields[i]!];
        if (v === undefined) {
          ok = false;
          break;
        }
        key += (i ? '|' : '') + norm(v);
      }
      if (!ok) continue;
      const top = g.byValues.get(key)?.[0];
      if (top && (!best || top.priority > best.priority)) best = top;
    }
    for (const e of this.masked) {
      if (best && e.priority <= best.priority) break;
      if (e.match.every((f) => f.field !== 'other' && fieldMatches(f, pkt))) {
        best = e;
        break;
      }
    }
    return best;
  }
}

function insertByPriority(list: FlowEntry[], e: FlowEntry): void {
  let i = 0;
  while (i < list.length && list[i]!.priority >= e.priority) i++;
  list.splice(i, 0, e);
}

const ALL_ONES_64 = (1n << 64n) - 1n;

/** All tables of one switch (table ids 0..nTables-1). */
export class FlowTables {
  private readonly tables: Table[];
  /** cookie → entries (delete-by-exact-cookie without a scan) */
  private readonly byCookie = new Map<bigint, Set<FlowEntry>>();

  constructor(readonly nTables = 254) {
    this.tables = Array.from({ length: nTables }, () => new Table());
  }

  /** Entries in all tables. */
  get size(): number {
    return this.tables.reduce((n, t) => n + t.size, 0);
  }

  *entries(tableId: number = OFPTT_ALL): Generator<FlowEntry> {
    if (tableId !== OFPTT_ALL) {
      const t = this.tables[tableId];
      if (t) yield* t.entries();
      return;
    }
    for (const t of this.tables) if (t.size > 0) yield* t.entries();
  }

  /** The highest-priority entry of `tableId` matching the packet, if any. */
  lookup(tableId: number, pkt: PacketFields): FlowEntry | undefined {
    return this.tables[tableId]?.lookup(pkt);
  }

  /** Applies a FLOW_MOD at time `nowMs` (§6.4). */
  apply(mod: FlowMod, nowMs: number): FlowModResult {
    if (mod.match.some((f) => f.field === 'other')) return { removed: [], error: { errType: OFPET_BAD_MATCH, code: 6 } };
    switch (mod.command) {
      case OFPFC.ADD:
        return this.add(mod, nowMs);
      case OFPFC.MODIFY:
      case OFPFC.MODIFY_STRICT:
        // OpenFlow 1.3.5 §6.4: a modify changes the instructions only; the entry keeps its cookie (as Open
        // vSwitch does for OpenFlow 1.2+; only OpenFlow 1.1 let a modify rewrite the cookie)
        for (const e of this.select(mod, mod.command === OFPFC.MODIFY_STRICT)) e.instructions = mod.instructions;
        return { removed: [] };
      case OFPFC.DELETE:
      case OFPFC.DELETE_STRICT: {
        const victims = this.select(mod, mod.command === OFPFC.DELETE_STRICT);
        for (const e of victims) this.removeEntry(e);
        return { removed: victims.map((entry) => ({ entry, reason: 2 as const })) };
      }
      default:
        return { removed: [], error: { errType: OFPET_FLOW_MOD_FAILED, code: 6 /* BAD_COMMAND */ } };
    }
  }

  private add(mod: FlowMod, nowMs: number): FlowModResult {
    const table = this.tables[mod.tableId];
    if (!table) return { removed: [], error: { errType: OFPET_FLOW_MOD_FAILED, code: 2 /* BAD_TABLE_ID */ } };
    const key = matchKey(mod.match);
    const same = table.identical(mod.priority, key);
    if (same) this.removeEntry(same);
    const keepCounts = same && (mod.flags & OFPFF.RESET_COUNTS) === 0;
    const entry: FlowEntry = {
      tableId: mod.tableId, priority: mod.priority, match: mod.match, matchKey: key, instructions: mod.instructions,
      cookie: mod.cookie, idleTimeout: mod.idleTimeout, hardTimeout: mod.hardTimeout, flags: mod.flags,
      installedMs: nowMs, lastUsedMs: nowMs,
      packetCount: keepCounts ? same.packetCount : 0n, byteCount: keepCounts ? same.byteCount : 0n,
    };
    table.add(entry);
    this.index(entry);
    return { removed: [] };
  }

  private index(e: FlowEntry): void {
    let set = this.byCookie.get(e.cookie);
    if (!set) this.byCookie.set(e.cookie, (set = new Set()));
    set.add(e);
  }

  private unindex(e: FlowEntry): void {
    const set = this.byCookie.get(e.cookie);
    set?.delete(e);
    if (set && set.size === 0) this.byCookie.delete(e.cookie);
  }

  private removeEntry(e: FlowEntry): void {
    this.tables[e.tableId]!.remove(e);
    this.unindex(e);
  }

  /** Entries a MODIFY/DELETE (or a stats request, non-strict) applies to. */
  select(f: Filter & { readonly priority?: number }, strict: boolean): FlowEntry[] {
    const req = basicFields(f.match);
    const strictKey = strict ? matchKey(f.match) : undefined;
    const out: FlowEntry[] = [];
    const candidates = (f.cookieMask & ALL_ONES_64) === ALL_ONES_64 ? (this.byCookie.get(f.cookie) ?? []) : this.entries(f.tableId);
    for (const e of candidates) if (passesFilter(e, f, req, strictKey, f.priority ?? 0)) out.push(e);
    return out;
  }

  /** Removes entries whose idle or hard timeout has passed at `nowMs`. */
  expire(nowMs: number): RemovedEntry[] {
    const out: RemovedEntry[] = [];
    for (const e of this.entries()) {
      if (e.hardTimeout > 0 && nowMs - e.installedMs >= e.hardTimeout * 1000) out.push({ entry: e, reason: 1 });
      else if (e.idleTimeout > 0 && nowMs - e.lastUsedMs >= e.idleTimeout * 1000) out.push({ entry: e, reason: 0 });
    }
    for (const r of out) this.removeEntry(r.entry);
    return out;
  }

  /** OFPMP_FLOW reply entries for a request (§7.3.5.2: non-strict match, cookie, out_port/out_group). */
  stats(req: FlowStatsRequest, nowMs: number): FlowStats[] {
    return this.select(req, false).map((e) => {
      const ms = Math.max(0, nowMs - e.installedMs);
      return {
        tableId: e.tableId, durationSec: Math.floor(ms / 1000), durationNsec: Math.round((ms % 1000) * 1e6),
        priority: e.priority, idleTimeout: e.idleTimeout, hardTimeout: e.hardTimeout, flags: e.flags,
        cookie: e.cookie, packetCount: e.packetCount, byteCount: e.byteCount, match: e.match, instructions: e.instructions,
      };
    });
  }
}

/** Whether an entry is a table-miss entry (priority 0, empty match): its packet-ins say OFPR_NO_MATCH. */
export function isTableMiss(e: FlowEntry): boolean {
  return e.priority === 0 && e.match.length === 0;
}

/** Whether a FLOW_MOD asks for FLOW_REMOVED messages. */
export function wantsFlowRemoved(e: FlowEntry): boolean {
  return (e.flags & OFPFF.SEND_FLOW_REM) !== 0;
}
