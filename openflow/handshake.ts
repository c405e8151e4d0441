/**
 * Pure pieces of the connection setup (OpenFlow 1.3.5 §6.3.1 "Connection Setup", §7.5.1 "Hello"):
 * the HELLO we send, version negotiation, and the configuration messages sent once the datapath id is
 * known. No I/O; the session sends what these return.
 */
import { flowMod, OFPCML_NO_BUFFER, TO_CONTROLLER, type HelloElement } from './codec/index.js';
import type { OutMessage } from './app-api.js';

/** The only version Rivulet speaks: OpenFlow 1.3 (wire version 0x04). */
export const OFP_VERSION = 4;

/** Our HELLO: header version 4 and a version bitmap with only bit 4 set (§7.5.1). */
export function helloMessage(): OutMessage {
  return {
    type: 'OFPT_HELLO',
    version: OFP_VERSION,
    elements: [{ type: 'OFPHET_VERSIONBITMAP', bitmaps: [1 << OFP_VERSION] }],
  };
}

export type Negotiation = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Decides whether the peer's HELLO allows OpenFlow 1.3 (§6.3.1): with a version bitmap, bit 4 must be
 * set in it; without one, the negotiated version is min(ours, peer header version), which must be 4.
 */
export function negotiate(peer: { readonly version: number; readonly elements: readonly HelloElement[] }): Negotiation {
  const bitmapEl = peer.elements.find((e) => e.type === 'OFPHET_VERSIONBITMAP');
  if (bitmapEl && bitmapEl.type === 'OFPHET_VERSIONBITMAP') {
    const word = bitmapEl.bitmaps[0] ?? 0;
    if ((word >>> OFP_VERSION) & 1) return { ok: true };
    return { ok: false, reason: `peer version bitmap ${bitmapString(bitmapEl.bitmaps)} lacks OpenFlow 1.3` };
  }
  if (peer.version >= OFP_VERSION) return { ok: true };
  return { ok: false, reason: `peer speaks OpenFlow wire version ${peer.version} only; Rivulet needs 1.3 (0x04)` };
}

function bitmapString(bitmaps: readonly number[]): string {
  return bitmaps.map((w) => `0x${(w >>> 0).toString(16).padStart(8, '0')}`).join(',');
}

/** OFPT_ERROR OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE with an ASCII explanation (§7.4.4). */
export function helloFailed(xid: number, reason: string): OutMessage {
  return { type: 'OFPT_ERROR', xid, errType: 0, code: 0, data: Buffer.from(reason.slice(0, 256), 'ascii') };
}

/** SET_CONFIG: normal fragment handling, `missSendLen` bytes of table-miss packets (OFPCML_NO_BUFFER = all). */
export function setConfigMessage(missSendLen: number = OFPCML_NO_BUFFER): OutMessage {
  return { type: 'OFPT_SET_CONFIG', flags: 0, missSendLen };
}

/**
 * The table-miss entry (§5.4): table 0, priority 0, empty match, apply-actions output CONTROLLER with
 * max_len OFPCML_NO_BUFFER, so unmatched packets reach the controller whole instead of being dropped.
 */
export function tableMissFlowMod(): OutMessage {
  return flowMod({ instructions: [{ type: 'OFPIT_APPLY_ACTIONS', actions: TO_CONTROLLER }] });
}

/** OFPT_ERROR carrying a decode error's type/code and the first 64 bytes of the offending message (§7.4.4). */
export function errorFor(xid: number, errType: number, code: number, offending: Buffer): OutMessage {
  return { type: 'OFPT_ERROR', xid, errType, code, data: Buffer.from(offending.subarray(0, 64)) };
}
