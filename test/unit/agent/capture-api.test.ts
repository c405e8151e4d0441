/**
 * agent/capture.ts (tcpdump argv; parsed frames → the detector's packets, snap-truncated frames sized
 * from the IP header; a pcap stream read from a stand-in for tcpdump) and
 * agent/local-api.ts (declarations validated with 400s naming the field; the same declarations as UDP
 * datagrams of JSON lines; flowlets and health).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePacket } from '../../../lib/packet/frame.js';
import { ManualClock } from '../../../lib/clock.js';
import { quietLogger } from '../../../lib/log.js';
import { PacketCapture, tcpdumpArgs, toOutgoing } from '../../../agent/capture.js';
import type { OutgoingPacket } from '../../../agent/detector.js';
import { HostAgent } from '../../../agent/agent.js';
import { createSocket } from 'node:dgram';
import { buildLocalApi, MAX_DATAGRAM_DECLARATIONS, parseDatagram, startLocalApi } from '../../../agent/local-api.js';
import { buildPcap, ethTcpFrame } from '../../../testing/pcap-builder.js';
import { pollUntil } from '../../../testing/until.js';

const spec = { src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 5001, seq: 1 };

describe('agent: capture', () => {
  it('tcpdump argv: outgoing IPv4, µs timestamps, unbuffered; the controller excluded', () => {
    expect(tcpdumpArgs('h1-eth0')).to.deep.equal(['-i', 'h1-eth0', '-U', '-w', '-', '-s', '128', '-Q', 'out', '--immediate-mode', '-B', '4096', '--time-stamp-precision=micro', 'ip']);
    expect(tcpdumpArgs('eth0', { host: '10.0.0.254', port: 8080 }).at(-1)).to.equal('ip and not (host 10.0.0.254 and tcp port 8080)');
  });

  it('frames → packets: payload from the IP header even when the capture was cut at 128 bytes', () => {
    const frame = ethTcpFrame({ ...spec, payload: Buffer.alloc(1448, 7) });
    const cut = frame.subarray(0, 128);
    const r = parsePacket(1, { frame: 1, tsUs: 5, origLen: frame.length, data: cut });
    expect(r.ok && toOutgoing(r.value)).to.deep.equal({ tsUs: 5, flow: { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 40000, dport: 5001 }, ipBytes: 1488, payloadBytes: 1448 });
    const ack = parsePacket(1, { frame: 2, tsUs: 6, origLen: 54, data: ethTcpFrame(spec) });
    expect(ack.ok && toOutgoing(ack.value)).to.include({ payloadBytes: 0, ipBytes: 40 });
  });

  it('reads a pcap stream from the capture process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rvag-cap-'));
    try {
      const file = join(dir, 'x.pcap');
      writeFileSync(file, buildPcap([1, 2, 3].map((i) => ({ tsUs: 1_700_000_000_000_000 + i, data: ethTcpFrame({ ...spec, seq: i * 100, payload: Buffer.alloc(100) }) }))));
      const got: OutgoingPacket[] = [];
      const cap = new PacketCapture({ dev: 'eth0', log: quietLogger(), onPacket: (p) => got.push(p), command: ['sh', '-c', `cat ${file}; exec sleep 5`], restartMs: 60_000 });
      cap.start();
      await pollUntil('3 packets', () => got.length >= 3, { timeoutMs: 5000, everyMs: 10 }).catch(() => undefined); // the assertion below says what is missing
      await cap.stop();
      expect(got.map((p) => p.tsUs % 10)).to.deep.equal([1, 2, 3]);
      expect(got[0]).to.include({ payloadBytes: 100, ipBytes: 140 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('agent: local API', () => {
  const make = () => {
    const clock = new ManualClock();
    const agent = new HostAgent(
      { agentId: 'h1', hostname: 'h1', interface: 'h1-eth0', ipv4: ['10.0.0.1'], linkRateBps: 100e6 },
      { clock, nowEpochUs: () => 1e15 + clock.now() * 1000, log: quietLogger(), tc: { write: () => 1e15 }, events: { addStart: () => undefined, addProgress: () => undefined, addEnd: () => undefined, addEnforced: () => undefined } },
    );
    return { agent, app: buildLocalApi(agent, quietLogger()) };
  };

  it('POST /api/v1/flows declares (proto defaults to 6); the next flowlet carries it', async () => {
    const { agent, app } = make();
    const r = await app.inject({ method: 'POST', url: '/api/v1/flows', payload: { dst: '10.0.0.2', dport: 5001, sizeBytes: 1e6, tenant: 'a' } });
    expect(r.statusCode).to.equal(201);
    expect(r.json()).to.deep.equal({ declared: { dst: '10.0.0.2', dport: 5001, proto: 6, sizeBytes: 1e6, tenant: 'a' } });
    agent.packet({ tsUs: 1e15, flow: { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 1234, dport: 5001 }, ipBytes: 1500, payloadBytes: 1448 });
    const fl = (await app.inject({ url: '/api/v1/flowlets' })).json() as { flowlets: { id: string; declared: unknown; rateLimitBps: unknown; dscp: unknown }[] };
    expect(fl.flowlets).to.have.length(1);
    expect(fl.flowlets[0]).to.deep.include({ id: 'f1', rateLimitBps: null, dscp: null });
    expect(fl.flowlets[0]!.declared).to.include({ sizeBytes: 1e6 });
    await app.close();
  });

  it('bad declarations are 400 with a JSON error naming the field', async () => {
    const { app } = make();
    const bad = async (payload: unknown, re: RegExp): Promise<void> => {
      const r = await app.inject({ method: 'POST', url: '/api/v1/flows', payload: payload as object });
      expect(r.statusCode, JSON.stringify(payload)).to.equal(400);
      expect(r.json().error.code).to.equal('BAD_REQUEST');
      expect(r.json().error.message).to.match(re);
    };
    await bad({ dst: '10.0.0.300', dport: 1 }, /\/dst/);
    await bad({ dst: '10.0.0.2', dport: '80' }, /\/dport/);
    await bad({ dst: '10.0.0.2', dport: 80, proto: 1 }, /\/proto/);
    await bad({ dst: '10.0.0.2', dport: 80, deadlineMs: 0 }, /\/deadlineMs/);
    await bad({ dst: '10.0.0.2', dport: 80, color: 'red' }, /color|additional/i);
    await bad([1], /object/);
    await app.close();
  });

  it('GET /api/v1/health', async () => {
    const { app } = make();
    const h = (await app.inject({ url: '/api/v1/health' })).json();
    expect(h).to.include({ agentId: 'h1', connected: false, state: 'connecting', lastRatesSeq: null, marking: 'off' });
    await app.close();
  });

  it('declarations as datagrams: JSON lines to the same port over UDP, each checked like a POST body; no answer', async function () {
    this.timeout(10000);
    const { agent } = make();
    const api = await startLocalApi({ agent, port: 0, log: quietLogger() });
    const port = Number(new URL(api.url).port);
    const sock = createSocket('udp4');
    try {
      const send = (text: string): Promise<void> => new Promise((res, rej) => sock.send(text, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
      await send(JSON.stringify({ dst: '10.0.0.2', dport: 5001, sport: 1234, sizeBytes: 2e6, transferId: 't1' }) + '\n'
        + JSON.stringify({ dst: '10.0.0.3', dport: 5001, sizeBytes: 1 }));
      await send('{"dst":"10.0.0.2","dport":"80"}\nnot json');
      await pollUntil('3 lines read', () => api.datagrams.declared + api.datagrams.rejected >= 4, { timeoutMs: 5000, everyMs: 10 }).catch(() => undefined);
      expect(api.datagrams).to.deep.equal({ declared: 2, rejected: 2 });
      expect(agent.detector.pendingDeclarations()).to.deep.equal([
        { dst: '10.0.0.2', dport: 5001, proto: 6, sport: 1234, sizeBytes: 2e6, transferId: 't1' },
        { dst: '10.0.0.3', dport: 5001, proto: 6, sizeBytes: 1 },
      ]);
      // the HTTP route still answers on the same port
      const r = await fetch(`${api.url}/api/v1/health`);
      expect(r.status).to.equal(200);
    } finally {
      sock.close();
      await api.close();
    }
  });

  it('a datagram: bad lines named, at most MAX_DATAGRAM_DECLARATIONS declarations', () => {
    const line = JSON.stringify({ dst: '10.0.0.2', dport: 80 });
    const r = parseDatagram(Buffer.from(Array.from({ length: MAX_DATAGRAM_DECLARATIONS + 3 }, () => line).join('\n')));
    expect(r.declarations).to.have.length(MAX_DATAGRAM_DECLARATIONS);
    expect(r.rejected).to.deep.equal([`more than ${MAX_DATAGRAM_DECLARATIONS} declarations in one datagram`]);
    expect(parseDatagram(Buffer.from('{"dst":"10.0.0.2","dport":80,"color":1}\n[1]\n\n')).rejected).to.have.length(2);
  });
});
