/**
 * The controller shell over real loopback TCP with fake switches (no OVS, no root): the dpid map,
 * the dpid registry (a second connection claiming a live dpid is refused; a dead one is replaced), a malformed switch closed while the others carry on, app
 * events, and release of every socket, timer and listener on close.
 */
import { expect } from 'chai';
import type { AppEvents } from '../../openflow/app-api.js';
import { startController, type Controller } from '../../openflow/listener.js';
import { quietLogger } from '../../lib/log.js';
import { FakeSwitch } from '../../testing/fake-switch.js';
import { until as untilHolds } from '../../testing/until.js';

const until = (what: string, check: () => boolean, timeoutMs = 3_000): Promise<void> => untilHolds(what, check, timeoutMs);

describe('controller (loopback, fake switches)', () => {
  let ctl: Controller;
  const events: string[] = [];
  const switches: FakeSwitch[] = [];

  beforeEach(async () => {
    events.length = 0;
    ctl = await startController({ port: 0, host: '127.0.0.1', logger: quietLogger() });
    ctl.on('switchUp', (e) => void events.push(`up:${e.dpid}`));
    ctl.on('switchDown', (e) => void events.push(`down:${e.dpid}:${e.reason}`));
  });

  afterEach(async () => {
    for (const s of switches.splice(0)) s.destroy();
    await ctl.close();
  });

  async function connect(dpid: bigint): Promise<FakeSwitch> {
    const s = await FakeSwitch.connect(ctl.port, dpid);
    switches.push(s);
    return s;
  }

  it('brings a switch up, exposes it by dpid and reports it down when it disconnects', async () => {
    const s = await connect(0xabcn);
    await until('switch up', () => ctl.switches.has(0xabcn));
    const sw = ctl.switches.get(0xabcn)!;
    expect(sw.dpidHex).to.equal('0000000000000abc');
    expect(sw.features.nTables).to.equal(254);
    expect(s.received.map((m) => m.type)).to.include.members(['OFPT_SET_CONFIG', 'OFPT_FLOW_MOD']);
    s.end();
    await until('switch down', () => !ctl.switches.has(0xabcn));
    expect(events).to.deep.equal(['up:2748', 'down:2748:peer closed the connection']);
  });

  it('refuses a second connection claiming a live dpid; the first keeps its session and answers echo', async () => {
    const first = await connect(7n);
    await until('first up', () => ctl.switches.has(7n));
    const live = ctl.switches.get(7n)!;
    const impostor = await connect(7n);
    await until('impostor closed', () => impostor.closed);
    const refusal = impostor.received.find((m) => m.type === 'OFPT_ERROR');
    expect(refusal).to.include({ errType: 1, code: 5 }); // OFPET_BAD_REQUEST / OFPBRC_EPERM
    expect(impostor.received.some((m) => m.type === 'OFPT_SET_CONFIG' || m.type === 'OFPT_FLOW_MOD')).to.equal(false);
    expect(ctl.switches.get(7n)).to.equal(live);
    expect(live.alive).to.equal(true);
    expect(first.closed).to.equal(false);
    await live.request({ type: 'OFPT_ECHO_REQUEST', data: Buffer.from('still-me') }, { timeoutMs: 2000 });
    await live.barrier({ timeoutMs: 2000 });
    expect(events).to.deep.equal(['up:7']);
    expect(ctl.stats().refusedDuplicates).to.equal(1);
  });

  it('a switch that really restarted gets in once its old session is declared dead (no echo answer)', async () => {
    const first = await connect(8n);
    await until('first up', () => ctl.switches.has(8n));
    first.answerEcho = false; // the old connection is half-open: nobody answers on it any more
    const again = await connect(8n);
    await until('refused while the old one is still presumed alive', () => again.closed);
    await until('old session declared dead by the liveness echo', () => !ctl.switches.has(8n), 3_000);
    expect(events[1]).to.match(/^down:8:.*no ECHO_REPLY within 1000 ms$/);
    const restarted = await connect(8n); // the switch's next reconnect
    await until('restarted switch up', () => ctl.switches.has(8n));
    expect(restarted.closed).to.equal(false);
    expect(events.filter((e) => e.startsWith('up:8'))).to.have.length(2);
  });

  it('closes only the connection that sent a malformed frame; the other switch stays up and answers', async () => {
    const good = await connect(1n);
    const bad = await connect(2n);
    await until('both up', () => ctl.switches.size === 2);
    bad.send(Buffer.from('0412000400000001', 'hex'));
    await until('bad one closed', () => bad.closed);
    expect(bad.received.some((m) => m.type === 'OFPT_ERROR')).to.equal(true);
    expect(good.closed).to.equal(false);
    await ctl.switches.get(1n)!.barrier({ timeoutMs: 2000 });
    expect([...ctl.switches.keys()]).to.deep.equal([1n]);
  });

  it('delivers packet-in to apps, containing a failing one', async () => {
    const seen: AppEvents['packetIn'][] = [];
    ctl.use({ name: 'broken', handlers: { packetIn: () => { throw new Error('boom'); } } });
    ctl.use({ name: 'recorder', handlers: { packetIn: (e) => void seen.push(e) } });
    const s = await connect(3n);
    await until('up', () => ctl.switches.has(3n));
    s.send({
      type: 'OFPT_PACKET_IN', xid: 0, bufferId: 0xffffffff, totalLen: 4, reason: 0, tableId: 0, cookie: 0n,
      match: [{ field: 'in_port', value: 1 }], data: Buffer.from('abcd'),
    });
    await until('packet-in', () => seen.length === 1);
    expect(seen[0]!.dpid).to.equal(3n);
    expect(seen[0]!.msg.data.toString()).to.equal('abcd');
  });

  it('close() ends every session and leaves no sockets, timers or listeners', async () => {
    for (const d of [10n, 11n, 12n]) await connect(d);
    await until('all up', () => ctl.switches.size === 3);
    expect(ctl.stats().timers).to.equal(3); // one echo timer per session
    await ctl.close();
    await until('sockets gone', () => ctl.stats().sockets === 0);
    expect(ctl.stats()).to.include({ switches: 0, sessions: 0, sockets: 0, timers: 0, listeners: 0, pendingRequests: 0 });
    expect(events.filter((e) => e.startsWith('down:'))).to.have.length(3);
  });
});
