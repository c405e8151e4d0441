/**
 * The packet pipeline of a fake switch (OpenFlow 1.3.5 §5.1, §5.10), pure: given the switch's flow
 * tables and groups, where does a frame go? Table lookups with GOTO_TABLE, apply-actions and the action
 * set, OUTPUT, GROUP (all / select by flow hash / indirect / fast failover) and SET_FIELD on Ethernet
 * addresses and the IPv4 DSCP. The only state it touches is the matched entries' counters (`commit`).
 * Outputs are returned unexpanded (FLOOD/ALL/IN_PORT/TABLE are the caller's business).
 */
import { OFPP, OFPR, type Action, type Bucket, type Instruction } from '../../openflow/codec/index.js';
import { isTableMiss, type FlowEntry, type FlowTables } from './flow-table.js';
import { flowKey, macBytes, packetFields, type PacketFields } from './frames.js';

/** Where the pipeline sends a frame: a port (physical or reserved), with packet-in details for OFPP_CONTROLLER. */
export interface PipelineOutput {
  readonly port: number;
  readonly frame: Buffer;
  readonly reason?: number;
  readonly tableId?: number;
  readonly cookie?: bigint;
}

export interface GroupEntry {
  readonly groupType: number;
  readonly buckets: readonly Bucket[];
}

export interface PipelineContext {
  readonly tables: FlowTables;
  readonly groups: ReadonlyMap<number, GroupEntry>;
  portUp(portNo: number): boolean;
}

/**
 * The tables' verdict on a frame arriving on `inPort`: its outputs in order. No matching entry (and no
 * table-miss entry) means drop: an empty list. With `commit`, matched entries count the packet.
 */
export function runPipeline(ctx: PipelineContext, inPort: number, frame: Buffer, commit: boolean, nowMs: number): PipelineOutput[] {
  const outs: PipelineOutput[] = [];
  let fields: PacketFields = packetFields(frame, inPort);
  let tableId: number | undefined = 0;
  const actionSet = new Map<string, Action>();
  let data = frame;
  let last: FlowEntry | undefined;
  while (tableId !== undefined) {
    const entry = ctx.tables.lookup(tableId, fields);
    if (!entry) return outs;
    last = entry;
    if (commit) {
      entry.packetCount++;
      entry.byteCount += BigInt(frame.length);
      entry.lastUsedMs = nowMs;
    }
    const next = applyInstructions(ctx, entry, data, fields, actionSet, outs);
    data = next.frame;
    fields = next.fields;
    tableId = next.gotoTable;
  }
  const ordered = [...actionSet.values()].sort((a, b) => actionSetRank(a) - actionSetRank(b));
  runActions(ctx, ordered, data, fields, outs, last);
  return outs;
}

function applyInstructions(
  ctx: PipelineContext, entry: FlowEntry, frame: Buffer, fields: PacketFields, actionSet: Map<string, Action>, outs: PipelineOutput[],
): { frame: Buffer; fields: PacketFields; gotoTable: number | undefined } {
  let gotoTable: number | undefined;
  let data = frame;
  for (const ins of entry.instructions as readonly Instruction[]) {
    switch (ins.type) {
      case 'OFPIT_APPLY_ACTIONS':
        data = runActions(ctx, ins.actions, data, fields, outs, entry);
        fields = packetFields(data, fields.in_port as number);
        break;
      case 'OFPIT_WRITE_ACTIONS':
        for (const a of ins.actions) actionSet.set(a.type === 'OFPAT_SET_FIELD' ? `set:${fieldName(a)}` : a.type, a);
        break;
      case 'OFPIT_CLEAR_ACTIONS':
        actionSet.clear();
        break;
      case 'OFPIT_GOTO_TABLE':
        gotoTable = ins.tableId > entry.tableId ? ins.tableId : undefined;
        break;
      default:
        break; // METER (no rate limiting in the fake), WRITE_METADATA, EXPERIMENTER
    }
  }
  return { frame: data, fields, gotoTable };
}

/**
 * Runs an action list on a frame; OUTPUTs land in `outs` (to OFPP_CONTROLLER with reason NO_MATCH when
 * `entry` is the table-miss entry, ACTION otherwise). Returns the (possibly rewritten) frame.
 */
export function runActions(
  ctx: PipelineContext, actions: readonly Action[], frame: Buffer, fields: PacketFields, outs: PipelineOutput[], entry: FlowEntry | undefined,
): Buffer {
  let data = frame;
  for (const a of actions) {
    if (a.type === 'OFPAT_OUTPUT') {
      if (a.port === OFPP.CONTROLLER) {
        const reason = entry && isTableMiss(entry) ? OFPR.NO_MATCH : OFPR.ACTION;
        outs.push({ port: a.port, frame: data, reason, tableId: entry?.tableId ?? 0, cookie: entry?.cookie ?? 0n });
      } else outs.push({ port: a.port, frame: data });
    } else if (a.type === 'OFPAT_SET_FIELD') {
      data = setField(data, a);
    } else if (a.type === 'OFPAT_GROUP') {
      const g = ctx.groups.get(a.groupId);
      if (!g) continue;
      for (const b of pickBuckets(ctx, g, fields)) runActions(ctx, b.actions, data, fields, outs, entry);
    }
  }
  return data;
}

function pickBuckets(ctx: PipelineContext, g: GroupEntry, fields: PacketFields): readonly Bucket[] {
  const buckets = g.buckets;
  switch (g.groupType) {
    case 0: // ALL
      return buckets;
    case 1: { // SELECT: FNV-1a hash of the flow
      if (buckets.length === 0) return [];
      const key = flowKey(fields) ?? `${fields.eth_src}>${fields.eth_dst}`;
      let h = 2166136261;
      for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619) >>> 0;
      return [buckets[h % buckets.length]!];
    }
    case 3: { // FAST FAILOVER: first live bucket
      const live = buckets.find((b) => b.watchPort === OFPP.ANY || ctx.portUp(b.watchPort));
      return live ? [live] : [];
    }
    default: // INDIRECT
      return buckets.slice(0, 1);
  }
}

/** Order of the action set (§5.10): set-field before group before output. */
function actionSetRank(a: Action): number {
  if (a.type === 'OFPAT_OUTPUT') return 3;
  if (a.type === 'OFPAT_GROUP') return 2;
  return 1;
}

function fieldName(a: Action): string {
  return a.type === 'OFPAT_SET_FIELD' ? (a.field.field === 'other' ? 'other' : a.field.field) : a.type;
}

/** SET_FIELD on a copy of the frame: Ethernet addresses and IPv4 DSCP; other fields are ignored. */
function setField(frame: Buffer, a: Extract<Action, { type: 'OFPAT_SET_FIELD' }>): Buffer {
  const f = a.field;
  if (f.field === 'other') return frame;
  const out = Buffer.from(frame);
  if (f.field === 'eth_dst') macBytes(String(f.value)).copy(out, 0);
  else if (f.field === 'eth_src') macBytes(String(f.value)).copy(out, 6);
  else if (f.field === 'ip_dscp' && out.length >= 34 && out.readUInt16BE(12) === 0x0800) out[15] = (Number(f.value) << 2) | (out[15]! & 3);
  else return frame;
  return out;
}
