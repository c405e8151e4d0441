/**
 * Rivulet's signed LLDP probes (ARCHITECTURE.md "Commitments" 12: a host must not be able to invent links).
 *
 * Format of a probe (an LLDPDU, see lldp.ts):
 * - Chassis ID, subtype 7 (locally assigned): ASCII `dpid:<16 lowercase hex digits>`;
 * - Port ID, subtype 7 (locally assigned): the OpenFlow port number as 4 octets, big-endian (chosen over
 *   decimal text: fixed size, no parsing ambiguity, covers the whole 32-bit port space);
 * - TTL: seconds the link stays valid (the link timeout, rounded up);
 * - organizationally-specific TLV, OUI 02-52-56 subtype 1 ("RV"; 0x02 puts it in the IEEE 802 SLAP
 *   administratively-assigned quadrant, so it can never collide with a registered OUI/CID), info =
 *   timestamp (8 octets, big-endian, ms of the controller's clock) ‖ HMAC-SHA256 truncated to 16 octets;
 * - End.
 * The HMAC key is random per controller run ({@link newProbeKey}); the MAC covers the chassis TLV value,
 * the port TLV value and the timestamp octets. {@link verifyProbe} drops unsigned, badly signed, stale or
 * future-dated probes. A frame replayed inside the freshness window can still be relayed by colluding
 * hosts; the window (default two probe periods) bounds that, and a self-loop (a host reflecting a probe
 * back into the port it came from) is rejected by the graph.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { dpidHex, parseDpid } from '../lib/dpid.js';
import { fail, ok, type PacketResult } from '../lib/packet/errors.js';
import { buildLldpdu, LLDP_SUBTYPE_LOCAL, LLDP_TLV, orgTlvs, type LldpFrame } from '../lib/packet/lldp.js';

/** The OUI of Rivulet's signature TLV, "xx-xx-xx". */
export const RIVULET_OUI = '02-52-56';
/** Subtype of the signature TLV. */
export const RIVULET_SIG_SUBTYPE = 1;
/** Truncated HMAC length, octets. */
export const RIVULET_MAC_OCTETS = 16;
/** Clock skew tolerated for timestamps ahead of `now`, ms. */
export const PROBE_FUTURE_SKEW_MS = 100;

const OUI_BYTES = Buffer.from([0x02, 0x52, 0x56]);

/** What a probe proves: it was sent by this controller out of `dpid`/`portNo` at `timestampMs`. */
export interface ProbeInfo {
  readonly dpid: bigint;
  readonly portNo: number;
  readonly timestampMs: number;
}

/** A fresh 32-octet HMAC key. */
export function newProbeKey(): Buffer {
  return randomBytes(32);
}

/** Chassis ID value of a datapath: "dpid:" + 16 hex digits. */
export function chassisIdOf(dpid: bigint): Buffer {
  return Buffer.from(`dpid:${dpidHex(dpid)}`, 'ascii');
}

/** Port ID value of a port number: 4 octets big-endian. */
export function portIdOf(portNo: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(portNo >>> 0, 0);
  return b;
}

function mac(key: Buffer, chassisTlv: Buffer, portTlv: Buffer, ts: Buffer): Buffer {
  return createHmac('sha256', key).update(chassisTlv).update(portTlv).update(ts).digest().subarray(0, RIVULET_MAC_OCTETS);
}

function timestampBytes(ms: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(ms))), 0);
  return b;
}

/**
 * Builds a signed probe LLDPDU (no Ethernet header; see packet.ts `buildLldpFrame`).
 * @param p.ttlSeconds 0–65535; p.timestampMs ≥ 0 (the injected clock's ms); p.key the HMAC key
 */
export function buildProbePdu(p: { dpid: bigint; portNo: number; timestampMs: number; ttlSeconds: number; key: Buffer }): Buffer {
  const chassis = { subtype: LLDP_SUBTYPE_LOCAL, id: chassisIdOf(p.dpid) };
  const port = { subtype: LLDP_SUBTYPE_LOCAL, id: portIdOf(p.portNo) };
  const ts = timestampBytes(p.timestampMs);
  const sig = mac(p.key, withSubtype(chassis.id), withSubtype(port.id), ts);
  const org = Buffer.concat([OUI_BYTES, Buffer.from([RIVULET_SIG_SUBTYPE]), ts, sig]);
  return buildLldpdu({
    chassisId: chassis,
    portId: port,
    ttl: p.ttlSeconds,
    optional: [{ type: LLDP_TLV.ORGANIZATIONALLY_SPECIFIC, value: org }],
  });
}

function withSubtype(id: Buffer): Buffer {
  return Buffer.concat([Buffer.from([LLDP_SUBTYPE_LOCAL]), id]);
}

/** Reads dpid and port number from a Rivulet-format frame without checking the signature. */
export function probeIdentity(frame: LldpFrame): PacketResult<{ dpid: bigint; portNo: number }> {
  const c = frame.chassisId;
  const p = frame.portId;
  if (!c || !p) return fail('LLDP_NOT_RIVULET', 'no chassis / port ID');
  const text = c.subtype === LLDP_SUBTYPE_LOCAL ? c.id.toString('latin1') : '';
  const m = /^dpid:([0-9a-f]{16})$/.exec(text);
  if (!m) return fail('LLDP_NOT_RIVULET', 'chassis ID is not dpid:<16 hex>');
  if (p.subtype !== LLDP_SUBTYPE_LOCAL || p.id.length !== 4) return fail('LLDP_NOT_RIVULET', 'port ID is not a 4-octet port number');
  return ok({ dpid: parseDpid(m[1]!), portNo: p.id.readUInt32BE(0) });
}

/**
 * Verifies a parsed probe: Rivulet format, signature under `key`, timestamp within
 * [now − maxAgeMs, now + PROBE_FUTURE_SKEW_MS].
 * Errors: LLDP_NOT_RIVULET, LLDP_UNSIGNED, LLDP_BAD_SIGNATURE, LLDP_STALE.
 */
export function verifyProbe(frame: LldpFrame, key: Buffer, nowMs: number, maxAgeMs: number): PacketResult<ProbeInfo> {
  const idr = probeIdentity(frame);
  if (!idr.ok) return idr;
  const sigTlv = orgTlvs(frame).find((o) => o.oui === RIVULET_OUI && o.subtype === RIVULET_SIG_SUBTYPE);
  if (!sigTlv) return fail('LLDP_UNSIGNED', 'no Rivulet signature TLV');
  if (sigTlv.info.length !== 8 + RIVULET_MAC_OCTETS) return fail('LLDP_BAD_SIGNATURE', `signature TLV info of ${sigTlv.info.length} octets`);
  const ts = sigTlv.info.subarray(0, 8);
  const want = mac(key, withSubtype(frame.chassisId!.id), withSubtype(frame.portId!.id), ts);
  if (!timingSafeEqual(want, sigTlv.info.subarray(8))) return fail('LLDP_BAD_SIGNATURE', 'HMAC mismatch');
  const timestampMs = Number(ts.readBigUInt64BE(0));
  if (timestampMs < nowMs - maxAgeMs || timestampMs > nowMs + PROBE_FUTURE_SKEW_MS) {
    return fail('LLDP_STALE', `signed at ${timestampMs} ms, now ${nowMs} ms, window ${maxAgeMs} ms`);
  }
  return ok({ ...idr.value, timestampMs });
}
