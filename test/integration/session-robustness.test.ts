/**
 * A switch with a firmware quirk: its OFPMP_METER_FEATURES reply is well framed but its body is empty or
 * 8 bytes (a real one has 16). Over loopback with startRivulet (no OVS, no root): the controller answers
 * with an OFPT_ERROR, reports meters unsupported on that switch in GET /api/v1/meters, and the session
 * stays up — the switch is never reconnected and keeps answering echo (OpenFlow 1.3.5 §6.4, §7.5.4).
 */
import { expect } from 'chai';
import { defaultConfig } from '../../controller/config/index.js';
import { quietLogger } from '../../lib/log.js';
import { startRivulet, type Rivulet } from '../../controller/main.js';
import { FakeSwitch } from '../../testing/fake-switch.js';
import { until } from '../../testing/until.js';

/** A METER_FEATURES multipart reply (xid) whose body is `bodyBytes` zero bytes. */
function meterFeaturesReply(xid: number, bodyBytes: number): Buffer {
  const f = Buffer.alloc(16 + bodyBytes);
  f.writeUInt32BE(0x04130000 | f.length, 0);
  f.writeUInt32BE(xid, 4);
  f.writeUInt16BE(11, 8); // OFPMP_METER_FEATURES
  return f;
}

describe('session robustness: malformed METER_FEATURES replies (loopback)', () => {
  let rivulet: Rivulet | undefined;
  let sw: FakeSwitch | undefined;

  afterEach(async () => {
    sw?.destroy();
    await rivulet?.close();
    rivulet = undefined;
  });

  for (const bodyBytes of [0, 8]) {
    it(`${bodyBytes}-byte body: OFPT_ERROR sent, meters unsupported, session up with no reconnect`, async () => {
      const config = defaultConfig({
        openflow: { port: 0, host: '127.0.0.1', echoIntervalMs: 100, echoMaxUnanswered: 2 },
        api: { port: 0, host: '127.0.0.1' },
        agents: { socketPath: '' },
        enforcement: { mode: 'both' },
      });
      const r = (rivulet = await startRivulet({ config, logger: quietLogger() }));
      let ups = 0;
      let downs = 0;
      r.controller.on('switchUp', () => void ups++);
      r.controller.on('switchDown', () => void downs++);
      const s = (sw = await FakeSwitch.connect(r.openflow.port, 0xb1n));
      let probeXid = -1;
      s.multipartAnswer = (mpType, xid) => {
        if (mpType !== 'OFPMP_METER_FEATURES') return undefined;
        probeXid = xid;
        return meterFeaturesReply(xid, bodyBytes);
      };
      await until('meter probe answered', () => probeXid >= 0);
      await until('OFPT_ERROR for the bad reply', () => s.received.some((m) => m.type === 'OFPT_ERROR' && m.xid === probeXid));
      const err = s.received.find((m) => m.type === 'OFPT_ERROR' && m.xid === probeXid)!;
      expect(err).to.include({ errType: 1 }); // OFPET_BAD_REQUEST
      await until('meters reported unsupported', async () => {
        const body = (await (await fetch(`${r.api.url}/api/v1/meters`)).json()) as { switches: { dpid: string; supported: boolean; reason?: string }[] };
        const sup = body.switches.find((x) => x.dpid === '00000000000000b1');
        return sup !== undefined && sup.supported === false && /OFP_MALFORMED_REPLY/.test(sup.reason ?? '');
      }, 5000, 50);
      // 30 echo intervals (3 s at 100 ms): still the one session, echo answered throughout
      const echoesBefore = s.received.filter((m) => m.type === 'OFPT_ECHO_REQUEST').length;
      await new Promise((res) => setTimeout(res, 3000));
      expect(s.received.filter((m) => m.type === 'OFPT_ECHO_REQUEST').length - echoesBefore).to.be.at.least(20);
      expect(s.closed).to.equal(false);
      expect(r.controller.switches.has(0xb1n)).to.equal(true);
      expect({ ups, downs }).to.deep.equal({ ups: 1, downs: 0 });
      await r.controller.switches.get(0xb1n)!.barrier({ timeoutMs: 2000 });
    });
  }
});
