/**
 * ofp_port (OpenFlow 1.3.5 §7.2.1), 64 bytes: port_no u32, pad[4], hw_addr[6], pad[2], name[16]
 * (NUL-padded), config, state, curr, advertised, supported, peer (u32 bitmaps), curr_speed, max_speed
 * (u32, kbit/s).
 */
import type { OfReader, OfWriter } from './buffer.js';
import { OFP_MAX_PORT_NAME_LEN } from './constants.js';
import type { Port } from './types.js';

export const OFP_PORT_LEN = 64;

/** Writes an ofp_port. @throws OfpEncodeError (bad MAC, name of 16 bytes or more, values out of range) */
export function encodePort(w: OfWriter, p: Port): void {
  w.u32(p.portNo).zeros(4).mac(p.hwAddr).zeros(2).string(p.name, OFP_MAX_PORT_NAME_LEN);
  w.u32(p.config).u32(p.state).u32(p.curr).u32(p.advertised).u32(p.supported).u32(p.peer);
  w.u32(p.currSpeed).u32(p.maxSpeed);
}

/** Reads an ofp_port (64 bytes). Over-reads fail with the reader's lenCode; non-zero pads OFP_ERR_BAD_PADDING. */
export function decodePort(r: OfReader): Port {
  r.need(OFP_PORT_LEN, 'ofp_port');
  const portNo = r.u32();
  r.zeroPad(4);
  const hwAddr = r.mac();
  r.zeroPad(2);
  const name = r.string(OFP_MAX_PORT_NAME_LEN);
  return {
    portNo, hwAddr, name,
    config: r.u32(), state: r.u32(), curr: r.u32(), advertised: r.u32(), supported: r.u32(), peer: r.u32(),
    currSpeed: r.u32(), maxSpeed: r.u32(),
  };
}
