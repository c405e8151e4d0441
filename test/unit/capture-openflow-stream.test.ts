/**
 * openflow/capture-stream.ts on synthetic captures: message boundaries that do not match
 * segment boundaries, provenance (the frame where a message starts), directions, and gaps in the middle
 * of a message (the cut message is reported, framing resumes after it).
 */
import { expect } from 'chai';
import { encodeMessage, type OfpMessage } from '../../openflow/codec/index.js';
import { analyzePcap, readPcapBuffer } from '../../lib/packet/pcap.js';
import { decodeOpenFlowCapture, type OpenFlowRecord } from '../../openflow/capture-stream.js';
import { buildPcap, ethTcpFrame } from '../../testing/pcap-builder.js';

const echo = (xid: number, n: number): OfpMessage => ({ type: 'OFPT_ECHO_REQUEST', xid, data: Buffer.alloc(n, xid) });

/** A capture of `stream` (switch → controller on 6653) cut into segments at `cuts`, minus `drop`ped segments. */
async function recordsOf(stream: Buffer, cuts: number[], drop: number[] = [], reply?: Buffer): Promise<OpenFlowRecord[]> {
  const points = [0, ...cuts, stream.length];
  const frames: Buffer[] = [ethTcpFrame({ src: '10.0.0.9', dst: '10.0.0.1', srcPort: 50000, dstPort: 6653, seq: 99, flags: 0x02 })];
  for (let i = 0; i + 1 < points.length; i++) {
    if (drop.includes(i)) continue;
    frames.push(ethTcpFrame({ src: '10.0.0.9', dst: '10.0.0.1', srcPort: 50000, dstPort: 6653, seq: 100 + points[i]!, payload: stream.subarray(points[i], points[i + 1]) }));
  }
  if (reply) frames.push(ethTcpFrame({ src: '10.0.0.1', dst: '10.0.0.9', srcPort: 6653, dstPort: 50000, seq: 7, payload: reply }));
  const file = await readPcapBuffer(buildPcap(frames.map((data, i) => ({ tsUs: 1_000_000 + i, data }))));
  if (!file.ok) throw file.error;
  return decodeOpenFlowCapture(analyzePcap(file.value));
}

describe('capture: OpenFlow messages of TCP streams', () => {
  const msgs = [echo(1, 10), echo(2, 100), echo(3, 3), echo(4, 40)].map((m) => encodeMessage(m));
  const stream = Buffer.concat(msgs); // 18 + 108 + 11 + 48 = 185 bytes
  const starts = [0, 18, 126, 137];

  it('frames messages across arbitrary segment boundaries and ties each to the frame where it starts', async () => {
    const recs = await recordsOf(stream, [5, 20, 21, 130, 150]);
    expect(recs.map((r) => [r.xid, r.type, r.length, r.streamOffset, r.frame])).to.deep.equal([
      [1, 'OFPT_ECHO_REQUEST', 18, 0, 2],
      [2, 'OFPT_ECHO_REQUEST', 108, 18, 3],
      [3, 'OFPT_ECHO_REQUEST', 11, 126, 5],
      [4, 'OFPT_ECHO_REQUEST', 48, 137, 6],
    ]);
    expect(recs.every((r) => r.direction === 'switch→controller' && r.src === '10.0.0.9:50000' && r.dst === '10.0.0.1:6653')).to.equal(true);
    expect(recs[0]!.timeUs).to.equal(1_000_001);
  });

  it('labels the two directions by the controller port', async () => {
    const recs = await recordsOf(stream, [], [], encodeMessage({ type: 'OFPT_ECHO_REPLY', xid: 1, data: Buffer.alloc(0) }));
    expect(recs.map((r) => r.direction)).to.deep.equal(['switch→controller', 'switch→controller', 'switch→controller', 'switch→controller', 'controller→switch']);
  });

  it('reports a message cut by a gap and resumes framing at the next message after it', async () => {
    // segments: [0,30) [30,60) [60,126) [126,185); the second one is lost: message 2 (18..126) is cut
    const recs = await recordsOf(stream, [30, 60, 126], [1]);
    expect(recs.map((r) => [r.xid, r.error?.code ?? r.type, r.streamOffset])).to.deep.equal([
      [1, 'OFPT_ECHO_REQUEST', 0],
      [2, 'OFP_ERR_BAD_LEN', 18],
      [3, 'OFPT_ECHO_REQUEST', starts[2]],
      [4, 'OFPT_ECHO_REQUEST', starts[3]],
    ]);
  });

  it('a gap that cuts a header leaves the rest of that run undecodable but never glues bytes', async () => {
    // segments [0,20) [20,24) [24,185): losing [20,24) cuts message 2 after its first 2 bytes (no length)
    const recs = await recordsOf(stream, [20, 24], [1]);
    expect(recs[0]!.message?.type).to.equal('OFPT_ECHO_REQUEST');
    expect(recs[1]!.error?.code).to.equal('OFP_ERR_BAD_LEN');
    for (const r of recs.slice(2)) expect(r.streamOffset).to.be.at.least(24);
  });

  it('a message cut by the end of the capture is reported with its header fields', async () => {
    const recs = await recordsOf(stream.subarray(0, 150), []);
    const last = recs[recs.length - 1]!;
    expect([last.xid, last.length, last.error?.code]).to.deep.equal([4, 48, 'OFP_ERR_BAD_LEN']);
  });
});
