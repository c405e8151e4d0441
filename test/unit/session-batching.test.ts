/**
 * Write batching of a switch session (`batchWrites`, what the controller runs with): the messages of one
 * event-loop turn reach the socket as one write at the end of the turn, in send order; the transact calls
 * of one turn share one BARRIER_REQUEST written after all their messages (OpenFlow 1.3.5 §6.2: a barrier
 * reply covers everything sent before it), and a switch error still fails only the transact whose
 * message it names. Back-pressure is kept: while the socket does not drain, turns are held, then written.
 */
import { expect } from 'chai';
import { flowMod, type OfpMessage } from '../../openflow/codec/index.js';
import { SwitchError } from '../../openflow/errors.js';
import { tick } from '../../testing/fake-socket.js';
import { HELLO_13, TEST_DPID, TEST_PORT, harness, type Harness } from '../../testing/session-harness.js';

/** Two turns: the promise continuation that sends, then the end-of-turn flush. */
const turn = async (): Promise<void> => {
  await tick();
  await tick();
};

/** The handshake of session-harness' bringUp, one turn per step (writes leave at the end of a turn). */
async function bringUp(h: Harness): Promise<void> {
  h.sock.feed(HELLO_13);
  await turn();
  const fr = h.sock.last('OFPT_FEATURES_REQUEST');
  h.sock.feed({ type: 'OFPT_FEATURES_REPLY', xid: fr.xid, datapathId: TEST_DPID, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 });
  await turn();
  const mp = h.sock.last('OFPT_MULTIPART_REQUEST');
  const br = h.sock.last('OFPT_BARRIER_REQUEST');
  h.sock.feed({ type: 'OFPT_MULTIPART_REPLY', xid: mp.xid, flags: 0, body: { mpType: 'OFPMP_PORT_DESC', ports: [TEST_PORT] } });
  h.sock.feed({ type: 'OFPT_BARRIER_REPLY', xid: br.xid });
  await turn();
  if (h.session.state !== 'MAIN') throw new Error(`session in ${h.session.state}`);
}

const entry = (priority: number) => flowMod({ priority, match: [], instructions: [] });

describe('session write batching', () => {
  it('one turn of sends is one socket write, in order, at the end of the turn', async () => {
    const h = harness({ batchWrites: true });
    await bringUp(h);
    const before = h.sock.chunks.length;
    for (let i = 0; i < 10; i++) h.session.send({ type: 'OFPT_ECHO_REQUEST', data: Buffer.from([i]) });
    expect(h.sock.chunks.length, 'nothing written during the turn').to.equal(before);
    await tick();
    expect(h.sock.chunks.length - before).to.equal(1);
    const echoes = h.sock.messages().filter((m) => m.type === 'OFPT_ECHO_REQUEST') as Extract<OfpMessage, { type: 'OFPT_ECHO_REQUEST' }>[];
    expect(echoes.slice(-10).map((m) => m.data[0])).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('transacts of one turn share one barrier, written after all their messages; an error fails only its own', async () => {
    const h = harness({ batchWrites: true });
    await bringUp(h);
    const mark = h.sock.messages().length;
    const results = [1, 2, 3].map((p) => h.session.transact([entry(p)]).then(() => 'ok', (e: Error) => e));
    await tick();
    const written = h.sock.messages().slice(mark);
    expect(written.map((m) => m.type)).to.deep.equal(['OFPT_FLOW_MOD', 'OFPT_FLOW_MOD', 'OFPT_FLOW_MOD', 'OFPT_BARRIER_REQUEST']);
    // the switch rejects the second flow-mod, then answers the barrier
    const second = written[1]!;
    h.sock.feed({ type: 'OFPT_ERROR', xid: second.xid, errType: 5, code: 0, data: Buffer.alloc(0) });
    h.sock.feed({ type: 'OFPT_BARRIER_REPLY', xid: written[3]!.xid });
    const [a, b, c] = await Promise.all(results);
    expect(a).to.equal('ok');
    expect(b).to.be.instanceOf(SwitchError);
    expect(c).to.equal('ok');
  });

  it('keeps back-pressure: turns sent while the socket is full are held and written on drain', async () => {
    const h = harness({ batchWrites: true });
    await bringUp(h);
    h.sock.writable = false;
    h.session.send({ type: 'OFPT_ECHO_REQUEST', data: Buffer.from([1]) });
    await tick(); // this turn's write is accepted but the socket says it is full
    const chunks = h.sock.chunks.length;
    h.session.send({ type: 'OFPT_ECHO_REQUEST', data: Buffer.from([2]) });
    h.session.send({ type: 'OFPT_ECHO_REQUEST', data: Buffer.from([3]) });
    await tick();
    expect(h.sock.chunks.length, 'held while blocked').to.equal(chunks);
    expect(h.session.queuedBytes).to.be.greaterThan(0);
    h.sock.drain();
    expect(h.sock.chunks.length).to.equal(chunks + 1);
    expect(h.session.queuedBytes).to.equal(0);
  });

  it('a close writes what the turn had sent before ending the socket', async () => {
    const h = harness({ batchWrites: true });
    await bringUp(h);
    h.session.send({ type: 'OFPT_ECHO_REQUEST', data: Buffer.from([9]) });
    h.session.close('test');
    const last = h.sock.messages().at(-1)!;
    expect(last.type).to.equal('OFPT_ECHO_REQUEST');
    expect(h.sock.ended).to.equal(true);
  });
});
