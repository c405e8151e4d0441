/**
 * The session core against a fake socket and a manual clock (no network): handshake order, version
 * negotiation, echo keep-alive, xid correlation, multipart reassembly, malformed input, back-pressure,
 * release on close; and the app host's containment of failing apps.
 */
import { expect } from 'chai';
import { AppHost } from '../../openflow/app-host.js';
import type { AppEvents, SwitchHandle } from '../../openflow/app-api.js';
import { quietLogger } from '../../lib/log.js';
import { encodeMessage, type FlowStats, type OfpMessage } from '../../openflow/codec/index.js';
import { tick } from '../../testing/fake-socket.js';
import { HELLO_13, TEST_DPID, TEST_PORT, bringUp, harness } from '../../testing/session-harness.js';

/** The real OpenFlow 1.0 HELLO: version 0x01, type 0, length 8, xid 0x2a. */
const HELLO_10 = Buffer.from('010000080000002a', 'hex');

describe('session', () => {
  describe('handshake (§6.3.1)', () => {
    it('sends HELLO at once with version 4 and a bitmap offering only 1.3, with TCP_NODELAY', () => {
      const h = harness();
      expect(h.sock.noDelay).to.equal(true);
      const hello = h.sock.frames()[0]!;
      // version 4, type 0 HELLO, length 16, xid; element VERSIONBITMAP (1), length 8, bitmap 0x00000010
      expect(hello.toString('hex')).to.match(/^04000010[0-9a-f]{8}0001000800000010$/);
      expect(h.session.state).to.equal('HELLO_WAIT');
    });

    it('goes HELLO → FEATURES → SET_CONFIG, PORT_DESC, table-miss, BARRIER → MAIN, in that byte order', async () => {
      const h = harness();
      await bringUp(h);
      const types = h.sock.messages().map((m) => (m.type === 'OFPT_MULTIPART_REQUEST' ? `MP:${m.body.mpType}` : m.type));
      expect(types).to.deep.equal([
        'OFPT_HELLO', 'OFPT_FEATURES_REQUEST', 'OFPT_SET_CONFIG', 'MP:OFPMP_PORT_DESC', 'OFPT_FLOW_MOD', 'OFPT_BARRIER_REQUEST',
      ]);
      expect(h.sock.last('OFPT_SET_CONFIG')).to.include({ flags: 0, missSendLen: 0xffff });
      const fm = h.sock.last('OFPT_FLOW_MOD');
      expect(fm).to.include({ tableId: 0, priority: 0, command: 0, bufferId: 0xffffffff });
      expect(fm.match).to.deep.equal([]);
      expect(fm.instructions).to.deep.equal([
        { type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_OUTPUT', port: 0xfffffffd, maxLen: 0xffff }] },
      ]);
      expect(h.session.state).to.equal('MAIN');
      expect(h.ups).to.have.length(1);
      expect(h.session.dpid).to.equal(TEST_DPID);
      expect(h.session.dpidHex).to.equal('00000a0b0c0d0e0f');
      expect([...h.session.ports.values()]).to.deep.equal([TEST_PORT]);
    });

    it('uses the configured miss_send_len', async () => {
      const h = harness({ missSendLen: 128 });
      await bringUp(h);
      expect(h.sock.last('OFPT_SET_CONFIG').missSendLen).to.equal(128);
    });

    it('answers an OpenFlow 1.0-only peer with HELLO_FAILED/INCOMPATIBLE and closes', async () => {
      const h = harness();
      h.sock.feed(HELLO_10);
      await tick();
      const err = h.sock.last('OFPT_ERROR');
      expect(err).to.include({ xid: 0x2a, errType: 0, code: 0 });
      expect(err.data.toString('ascii')).to.match(/1\.3/);
      expect(h.sock.ended).to.equal(true);
      expect(h.session.state).to.equal('DEAD');
      expect(h.closes).to.deep.equal([{ reason: h.session.closeReason, wasUp: false }]);
      expect(h.sock.messages().some((m) => m.type === 'OFPT_FEATURES_REQUEST')).to.equal(false);
    });

    it('rejects a bitmap without 1.3 and accepts a newer header version without a bitmap', async () => {
      const no13 = harness();
      no13.sock.feed({ type: 'OFPT_HELLO', xid: 1, version: 5, elements: [{ type: 'OFPHET_VERSIONBITMAP', bitmaps: [0x22] }] });
      await tick();
      expect(no13.session.state).to.equal('DEAD');
      expect(no13.sock.last('OFPT_ERROR').errType).to.equal(0);
      const newer = harness();
      newer.sock.feed({ type: 'OFPT_HELLO', xid: 1, version: 6, elements: [] });
      await tick();
      expect(newer.session.state).to.equal('FEATURES_WAIT');
    });

    it('closes when the handshake does not complete in time', () => {
      const h = harness({ handshakeTimeoutMs: 500 });
      h.clock.advance(499);
      expect(h.session.alive).to.equal(true);
      h.clock.advance(1);
      expect(h.session.state).to.equal('DEAD');
      expect(h.closes[0]!.reason).to.match(/handshake/);
    });
  });

  describe('echo (§7.5.2, §7.5.3)', () => {
    it('answers the switch’s ECHO_REQUEST with the same xid and data', async () => {
      const h = harness();
      await bringUp(h);
      h.sock.feed({ type: 'OFPT_ECHO_REQUEST', xid: 99, data: Buffer.from('ping') });
      expect(h.sock.last('OFPT_ECHO_REPLY')).to.deep.equal({ type: 'OFPT_ECHO_REPLY', xid: 99, data: Buffer.from('ping') });
    });

    it('sends ECHO_REQUEST every interval and closes after the allowed number go unanswered', async () => {
      const h = harness({ echoIntervalMs: 1000, echoMaxUnanswered: 3 });
      await bringUp(h);
      const echoes = (): number => h.sock.messages().filter((m) => m.type === 'OFPT_ECHO_REQUEST').length;
      h.clock.advance(1000);
      expect(echoes()).to.equal(1);
      h.sock.feed({ type: 'OFPT_ECHO_REPLY', xid: h.sock.last('OFPT_ECHO_REQUEST').xid, data: Buffer.alloc(0) });
      h.clock.advance(3000);
      expect(echoes()).to.equal(4);
      expect(h.session.state).to.equal('MAIN');
      h.clock.advance(1000);
      expect(h.session.state).to.equal('DEAD');
      expect(h.closes).to.deep.equal([{ reason: 'echo timeout: 3 ECHO_REQUESTs unanswered', wasUp: true }]);
      expect(h.clock.pending).to.equal(1); // only the linger timer (socket not closed by the peer)
      h.clock.advance(1000);
      expect(h.sock.destroyed).to.equal(true);
      expect(h.clock.pending).to.equal(0);
    });
  });

  describe('requests (§6.4)', () => {
    it('correlates replies by xid, in any order', async () => {
      const h = harness();
      await bringUp(h);
      const a = h.session.request({ type: 'OFPT_GET_CONFIG_REQUEST' });
      const b = h.session.multipart({ mpType: 'OFPMP_METER_FEATURES' });
      const [reqA, reqB] = h.sock.messages().slice(-2);
      h.sock.feed({
        type: 'OFPT_MULTIPART_REPLY',
        xid: reqB!.xid,
        flags: 0,
        body: { mpType: 'OFPMP_METER_FEATURES', maxMeter: 100, bandTypes: 2, capabilities: 15, maxBands: 8, maxColor: 0 },
      });
      h.sock.feed({ type: 'OFPT_GET_CONFIG_REPLY', xid: reqA!.xid, flags: 0, missSendLen: 0xffff });
      expect((await b).maxMeter).to.equal(100);
      expect((await a).missSendLen).to.equal(0xffff);
      expect(h.session.pendingCount).to.equal(0);
    });

    it('rejects with RequestTimeoutError after timeoutMs, and with SwitchError on OFPT_ERROR', async () => {
      const h = harness();
      await bringUp(h);
      const slow = h.session.barrier({ timeoutMs: 200 });
      h.clock.advance(200);
      const timeout = await slow.then(() => undefined, (e: Error) => e);
      expect(timeout).to.have.property('code', 'OFP_REQUEST_TIMEOUT');
      const bad = h.session.request({ type: 'OFPT_ROLE_REQUEST', role: 2, generationId: 1n });
      const xid = h.sock.last('OFPT_ROLE_REQUEST').xid;
      h.sock.feed({ type: 'OFPT_ERROR', xid, errType: 11, code: 1, data: Buffer.alloc(0) });
      const err = await bad.then(() => undefined, (e: Error) => e);
      expect(err).to.include({ code: 'OFP_SWITCH_ERROR', errType: 11, errCode: 1, xid });
      expect(err).to.have.property('errTypeName', 'OFPET_ROLE_REQUEST_FAILED');
      expect(h.messages).to.deep.equal([]); // consumed by the request, not an app event
    });

    it('assembles REPLY_MORE multipart parts into one reply', async () => {
      const h = harness();
      await bringUp(h);
      const flow = (priority: number): FlowStats => ({
        tableId: 0, durationSec: 1, durationNsec: 0, priority, idleTimeout: 0, hardTimeout: 0, flags: 0,
        cookie: 0n, packetCount: 0n, byteCount: 0n, match: [], instructions: [],
      });
      const p = h.session.multipart({ mpType: 'OFPMP_FLOW', tableId: 0xff, outPort: 0xffffffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] });
      const xid = h.sock.last('OFPT_MULTIPART_REQUEST').xid;
      h.sock.feed({ type: 'OFPT_MULTIPART_REPLY', xid, flags: 1, body: { mpType: 'OFPMP_FLOW', flows: [flow(1), flow(2)] } });
      await tick();
      expect(h.session.pendingCount).to.equal(1);
      h.sock.feed({ type: 'OFPT_MULTIPART_REPLY', xid, flags: 0, body: { mpType: 'OFPMP_FLOW', flows: [flow(3)] } });
      expect((await p).flows.map((f) => f.priority)).to.deep.equal([1, 2, 3]);
    });

    it('transact() reports an OFPT_ERROR for a message without a reply once the barrier returns', async () => {
      const h = harness();
      await bringUp(h);
      const t = h.session.transact([{ type: 'OFPT_TABLE_MOD', tableId: 0, config: 3 }]);
      const mod = h.sock.last('OFPT_TABLE_MOD');
      h.sock.feed({ type: 'OFPT_ERROR', xid: mod.xid, errType: 8, code: 0, data: Buffer.alloc(0) });
      h.sock.feed({ type: 'OFPT_BARRIER_REPLY', xid: h.sock.last('OFPT_BARRIER_REQUEST').xid });
      const err = await t.then(() => undefined, (e: Error) => e);
      expect(err).to.include({ code: 'OFP_SWITCH_ERROR', errType: 8, xid: mod.xid });
    });

    it('wraps the xid counter at 2^32 and skips 0', async () => {
      const h = harness();
      await bringUp(h);
      (h.session as unknown as { xid: number }).xid = 0xfffffffe;
      expect(h.session.send({ type: 'OFPT_BARRIER_REQUEST' })).to.equal(0xffffffff);
      expect(h.session.send({ type: 'OFPT_BARRIER_REQUEST' })).to.equal(1);
    });
  });

  describe('malformed input (§7.4.4)', () => {
    it('answers a bad frame header with OFPT_ERROR (BAD_REQUEST/BAD_LEN + the bytes) and closes', async () => {
      const h = harness();
      await bringUp(h);
      const bad = Buffer.from('0412000400000033', 'hex'); // length 4 < 8
      h.sock.feed(Buffer.concat([encodeMessage({ type: 'OFPT_ECHO_REQUEST', xid: 3, data: Buffer.alloc(0) }), bad]));
      expect(h.sock.last('OFPT_ECHO_REPLY')).to.include({ xid: 3 }); // the good message before it was handled
      const err = h.sock.last('OFPT_ERROR');
      expect(err).to.include({ errType: 1, code: 6, xid: 0x33 });
      expect(err.data.subarray(0, 8)).to.deep.equal(bad);
      expect(h.session.state).to.equal('DEAD');
      expect(h.sock.ended).to.equal(true);
      expect(h.closes[0]).to.deep.include({ wasUp: true });
    });

    it('answers an undecodable message with the decode error’s type/code and its first 64 bytes', async () => {
      const h = harness();
      await bringUp(h);
      // a PACKET_IN whose ofp_match has type 0 (OFPMT_STANDARD) → OFPET_BAD_MATCH / OFPBMC_BAD_TYPE
      const frame = Buffer.alloc(100);
      frame.writeUInt32BE(0x040a0064, 0);
      frame.writeUInt32BE(0x55, 4);
      frame.writeUInt32BE(0xffffffff, 8); // buffer id
      frame.writeUInt16BE(0, 16); // match type 0
      frame.writeUInt16BE(4, 18);
      h.sock.feed(frame);
      const err = h.sock.last('OFPT_ERROR');
      expect(err).to.include({ xid: 0x55, errType: 4 });
      expect(err.data).to.deep.equal(frame.subarray(0, 64));
      expect(h.session.state).to.equal('MAIN'); // well framed: answered, not fatal (§6.4)
      expect(h.session.malformedBodies).to.equal(1);
      expect(h.closes).to.deep.equal([]);
    });

    /** A METER_FEATURES multipart reply whose body is `bodyBytes` bytes of zeros (a real one has 16). */
    function meterFeaturesReply(xid: number, bodyBytes: number): Buffer {
      const f = Buffer.alloc(16 + bodyBytes);
      f.writeUInt32BE(0x04130000 | f.length, 0); // version 4, OFPT_MULTIPART_REPLY (19), length
      f.writeUInt32BE(xid, 4);
      f.writeUInt16BE(11, 8); // OFPMP_METER_FEATURES
      return f;
    }

    for (const bodyBytes of [0, 8]) {
      it(`a METER_FEATURES reply with a ${bodyBytes}-byte body fails that request only: OFPT_ERROR sent, session up`, async () => {
        const h = harness();
        await bringUp(h);
        const probe = h.session.multipart({ mpType: 'OFPMP_METER_FEATURES' });
        const other = h.session.request({ type: 'OFPT_GET_CONFIG_REQUEST' });
        const [mp, gc] = h.sock.messages().slice(-2);
        const bad = meterFeaturesReply(mp!.xid, bodyBytes);
        h.sock.feed(bad);
        const err = await probe.then(() => undefined, (e: Error) => e);
        expect(err).to.include({ code: 'OFP_MALFORMED_REPLY', xid: mp!.xid });
        const sent = h.sock.last('OFPT_ERROR');
        expect(sent).to.include({ xid: mp!.xid, errType: 1 }); // OFPET_BAD_REQUEST
        expect(sent.data).to.deep.equal(bad);
        // the session goes on: another request still completes, echo still answered
        h.sock.feed({ type: 'OFPT_GET_CONFIG_REPLY', xid: gc!.xid, flags: 0, missSendLen: 0xffff });
        expect((await other).missSendLen).to.equal(0xffff);
        h.sock.feed({ type: 'OFPT_ECHO_REQUEST', xid: 77, data: Buffer.alloc(0) });
        expect(h.sock.last('OFPT_ECHO_REPLY')).to.include({ xid: 77 });
        expect(h.session.state).to.equal('MAIN');
        expect(h.closes).to.deep.equal([]);
        expect(h.session.pendingCount).to.equal(0);
      });
    }

    it('a bad body in one part of a REPLY_MORE sequence fails the request and drops the parts gathered', async () => {
      const h = harness();
      await bringUp(h);
      const p = h.session.multipart({ mpType: 'OFPMP_FLOW', tableId: 0xff, outPort: 0xffffffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] });
      const xid = h.sock.last('OFPT_MULTIPART_REQUEST').xid;
      h.sock.feed({ type: 'OFPT_MULTIPART_REPLY', xid, flags: 1, body: { mpType: 'OFPMP_FLOW', flows: [] } });
      const bad = Buffer.alloc(20);
      bad.writeUInt32BE(0x04130014, 0);
      bad.writeUInt32BE(xid, 4);
      bad.writeUInt16BE(1, 8); // OFPMP_FLOW with a 4-byte body: shorter than one ofp_flow_stats
      h.sock.feed(bad);
      expect(await p.then(() => undefined, (e: Error) => e)).to.have.property('code', 'OFP_MALFORMED_REPLY');
      expect(h.session.state).to.equal('MAIN');
      expect(h.session.pendingCount).to.equal(0);
    });

    it('closes on a version other than 1.3 after the handshake (the stream is not OpenFlow 1.3)', async () => {
      const h = harness();
      await bringUp(h);
      h.sock.feed(Buffer.from('0102000800000009', 'hex')); // an OpenFlow 1.0 ECHO_REQUEST
      expect(h.sock.last('OFPT_ERROR')).to.include({ xid: 9, errType: 1, code: 0 }); // OFPBRC_BAD_VERSION
      expect(h.session.state).to.equal('DEAD');
    });

    it('answers an unknown message type with OFPBRC_BAD_TYPE and keeps the connection', async () => {
      const h = harness();
      await bringUp(h);
      const unknown = Buffer.from('04630008000000ab', 'hex'); // type 99
      h.sock.feed(unknown);
      expect(h.sock.last('OFPT_ERROR')).to.deep.equal({ type: 'OFPT_ERROR', xid: 0xab, errType: 1, code: 1, data: unknown });
      expect(h.session.state).to.equal('MAIN');
    });

    it('reassembles frames fed one byte at a time', async () => {
      const h = harness();
      const bytes = Buffer.concat([encodeMessage(HELLO_13), encodeMessage({ type: 'OFPT_ECHO_REQUEST', xid: 5, data: Buffer.from('x') })]);
      for (let i = 0; i < bytes.length; i++) h.sock.feed(bytes.subarray(i, i + 1));
      await tick();
      expect(h.session.state).to.equal('FEATURES_WAIT');
      expect(h.sock.last('OFPT_ECHO_REPLY')).to.include({ xid: 5 });
    });
  });

  describe('back-pressure and release', () => {
    it('holds writes while the socket does not drain and resumes on drain', async () => {
      const h = harness();
      await bringUp(h);
      const before = h.sock.chunks.length;
      h.sock.writable = false;
      h.session.send({ type: 'OFPT_BARRIER_REQUEST' });
      h.session.send({ type: 'OFPT_BARRIER_REQUEST' });
      h.session.send({ type: 'OFPT_BARRIER_REQUEST' });
      expect(h.sock.chunks.length).to.equal(before + 1);
      expect(h.session.queuedBytes).to.equal(16);
      h.sock.drain();
      expect(h.sock.chunks.length).to.equal(before + 2); // the two held frames, coalesced
      expect(h.session.queuedBytes).to.equal(0);
      expect(h.sock.messages().filter((m) => m.type === 'OFPT_BARRIER_REQUEST')).to.have.length(4);
    });

    it('closes the session when the held bytes pass the hard limit', async () => {
      const h = harness({ maxQueuedBytes: 20 });
      await bringUp(h);
      h.sock.writable = false;
      for (let i = 0; i < 4; i++) h.session.send({ type: 'OFPT_BARRIER_REQUEST' });
      expect(h.session.state).to.equal('DEAD');
      expect(h.closes[0]!.reason).to.match(/write queue over limit: 24 bytes/);
    });

    it('on close rejects pending requests, clears timers and removes its listeners', async () => {
      const h = harness();
      await bringUp(h);
      const p = h.session.barrier();
      h.session.close('test');
      const err = await p.then(() => undefined, (e: Error) => e);
      expect(err).to.have.property('code', 'OFP_SESSION_CLOSED');
      expect(() => h.session.send({ type: 'OFPT_BARRIER_REQUEST' })).to.throw(/OFP_SESSION_CLOSED/);
      for (const ev of ['data', 'drain', 'end']) expect(h.sock.listenerCount(ev), ev).to.equal(0);
      h.sock.destroy(); // the peer closes: the linger timer goes too
      expect(h.clock.pending).to.equal(0);
    });

    it('delivers async messages received during setup after switch up', async () => {
      const h = harness();
      h.sock.feed(HELLO_13);
      await tick();
      const fr = h.sock.last('OFPT_FEATURES_REQUEST');
      h.sock.feed({ type: 'OFPT_FEATURES_REPLY', xid: fr.xid, datapathId: 1n, nBuffers: 0, nTables: 1, auxiliaryId: 0, capabilities: 0, reserved: 0 });
      await tick();
      h.sock.feed({ type: 'OFPT_PORT_STATUS', xid: 0, reason: 0, desc: { ...TEST_PORT, portNo: 2 } });
      expect(h.messages).to.have.length(0);
      h.sock.feed({ type: 'OFPT_MULTIPART_REPLY', xid: h.sock.last('OFPT_MULTIPART_REQUEST').xid, flags: 0, body: { mpType: 'OFPMP_PORT_DESC', ports: [TEST_PORT] } });
      h.sock.feed({ type: 'OFPT_BARRIER_REPLY', xid: h.sock.last('OFPT_BARRIER_REQUEST').xid });
      await tick();
      expect(h.messages.map((m) => m.type)).to.deep.equal(['OFPT_PORT_STATUS']);
      expect([...h.session.ports.keys()].sort()).to.deep.equal([1, 2]);
    });
  });
});

describe('app host', () => {
  const sw = { alive: true, send: () => 1 } as unknown as SwitchHandle;
  const dir = { get: () => sw, values: () => [sw] };
  const down: AppEvents['switchDown'] = { dpid: 1n, reason: 'test' };

  it('contains an app that throws: the other apps still get the event', async () => {
    const host = new AppHost(dir, quietLogger());
    const seen: string[] = [];
    host.register({ name: 'thrower', handlers: { switchDown: () => { throw new Error('boom'); } } });
    host.register({ name: 'rejecter', handlers: { switchDown: async () => { throw new Error('async boom'); } } });
    host.register({ name: 'listener', handlers: { switchDown: (e) => { seen.push(e.reason); } } });
    host.dispatch('switchDown', down);
    await host.idle();
    expect(seen).to.deep.equal(['test']);
  });

  it('sends the messages a handler returns to the event’s datapath', async () => {
    const sent: OfpMessage['type'][] = [];
    const target = { alive: true, send: (m: OfpMessage) => (sent.push(m.type), 1) } as unknown as SwitchHandle;
    const host = new AppHost({ get: () => target, values: () => [target] }, quietLogger());
    host.register({ name: 'a', handlers: { switchDown: () => [{ type: 'OFPT_BARRIER_REQUEST' }] } });
    host.register({ name: 'b', handlers: { switchDown: async () => [{ type: 'OFPT_GET_CONFIG_REQUEST' }] } });
    host.dispatch('switchDown', down);
    await host.idle();
    expect(sent).to.deep.equal(['OFPT_BARRIER_REQUEST', 'OFPT_GET_CONFIG_REQUEST']);
    expect(() => host.register({ name: 'a', handlers: {} })).to.throw(/already registered/);
  });
});
