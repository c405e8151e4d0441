/**
 * Drives a Session against a FakeSocket on a ManualClock: records its hook calls and plays the switch's
 * side of the handshake (OpenFlow 1.3.5 §6.3.1).
 */
import { ManualClock } from '../lib/clock.js';
import { quietLogger } from '../lib/log.js';
import { Session, type AsyncMessage, type SessionOptions } from '../openflow/session.js';
import type { OfpMessage, Port } from '../openflow/codec/index.js';
import { FakeSocket, tick } from './fake-socket.js';

export const TEST_DPID = 0x0000_0a0b_0c0d_0e0fn;

export const TEST_PORT: Port = {
  portNo: 1,
  hwAddr: '02:00:00:00:00:01',
  name: 'p1',
  config: 0,
  state: 4,
  curr: 0x2840,
  advertised: 0,
  supported: 0,
  peer: 0,
  currSpeed: 10_000_000,
  maxSpeed: 0,
};

/** A 1.3 peer's HELLO with a version bitmap offering 1.0 and 1.3 (0x12). */
export const HELLO_13: OfpMessage = {
  type: 'OFPT_HELLO',
  xid: 7,
  version: 4,
  elements: [{ type: 'OFPHET_VERSIONBITMAP', bitmaps: [0x12] }],
};

export interface Harness {
  readonly sock: FakeSocket;
  readonly clock: ManualClock;
  readonly session: Session;
  readonly ups: Session[];
  readonly messages: AsyncMessage[];
  readonly closes: { reason: string; wasUp: boolean }[];
}

export function harness(options: SessionOptions = {}): Harness {
  const sock = new FakeSocket();
  const clock = new ManualClock(1000);
  const ups: Session[] = [];
  const messages: AsyncMessage[] = [];
  const closes: { reason: string; wasUp: boolean }[] = [];
  const session = new Session(
    sock,
    {
      clock,
      log: quietLogger(),
      hooks: {
        up: (s) => ups.push(s),
        message: (_s, m) => messages.push(m),
        closed: (_s, reason, wasUp) => closes.push({ reason, wasUp }),
      },
    },
    options,
  );
  return { sock, clock, session, ups, messages, closes };
}

/** Plays HELLO → FEATURES_REPLY → PORT_DESC reply + BARRIER_REPLY; the session ends in MAIN. */
export async function bringUp(h: Harness, ports: readonly Port[] = [TEST_PORT], dpid = TEST_DPID): Promise<void> {
  h.sock.feed(HELLO_13);
  await tick();
  const fr = h.sock.last('OFPT_FEATURES_REQUEST');
  h.sock.feed({
    type: 'OFPT_FEATURES_REPLY',
    xid: fr.xid,
    datapathId: dpid,
    nBuffers: 0,
    nTables: 254,
    auxiliaryId: 0,
    capabilities: 0x4f,
    reserved: 0,
  });
  await tick();
  const mp = h.sock.last('OFPT_MULTIPART_REQUEST');
  const br = h.sock.last('OFPT_BARRIER_REQUEST');
  h.sock.feed({ type: 'OFPT_MULTIPART_REPLY', xid: mp.xid, flags: 0, body: { mpType: 'OFPMP_PORT_DESC', ports } });
  h.sock.feed({ type: 'OFPT_BARRIER_REPLY', xid: br.xid });
  await tick();
}
