/**
 * The routing app's shell with fake switch handles (no sockets): packet-ins parsed and routed, installs
 * performed stage by stage with transact before the packet-out, LLDP ignored, failed installs cleaned up
 * and logged with the dpid, fabric events re-pinning through the captured context, stop() unsubscribing.
 */
import { ARP_UNICAST_COOKIE } from '../../../apps/routing/arp-unicast.js';
import { expect } from 'chai';
import type { AppContext, AppEvents, OutMessage, SwitchHandle } from '../../../openflow/app-api.js';
import { ManualClock } from '../../../lib/clock.js';
import { OFPFC, OFP_NO_BUFFER } from '../../../openflow/codec/index.js';
import { createLogger } from '../../../lib/log.js';
import { createRoutingApp, type RoutingApp } from '../../../apps/routing/app.js';
import { FakeLeafSpine, hostIp, hostMac, leafDpid, spineDpid } from '../../../testing/fake-leaf-spine.js';
import { ipv4Frame } from './frames.js';

const SHAPE = { spines: 2, leaves: 3, hostsPerLeaf: 1 };
const HOST_PORT = 3;

type Op = { readonly op: 'send' | 'transact'; readonly dpid: bigint; readonly types: string[]; readonly msgs: readonly OutMessage[] };

/** Switch handles that record what they are asked to do, in one global log. */
class FakeSwitches {
  readonly ops: Op[] = [];
  readonly failTransact = new Set<bigint>();
  readonly throwOnSend = new Set<bigint>();
  readonly handles = new Map<bigint, SwitchHandle>();

  constructor(dpids: readonly bigint[]) {
    for (const dpid of dpids) {
      const h = {
        dpid,
        dpidHex: dpid.toString(16).padStart(16, '0'),
        alive: true,
        send: (m: OutMessage): number => {
          if (this.throwOnSend.has(dpid)) throw new Error('socket exploded');
          this.ops.push({ op: 'send', dpid, types: [m.type], msgs: [m] });
          return 1;
        },
        transact: async (msgs: readonly OutMessage[]): Promise<void> => {
          this.ops.push({ op: 'transact', dpid, types: msgs.map((m) => m.type), msgs });
          await new Promise((r) => setImmediate(r));
          if (this.failTransact.has(dpid)) throw new Error('OFPET_FLOW_MOD_FAILED');
        },
      };
      this.handles.set(dpid, h as unknown as SwitchHandle);
    }
  }

  ctx(log: AppContext['log']): AppContext {
    return { log, switch: (d) => this.handles.get(d), switches: () => [...this.handles.values()] };
  }
}

function packetInEvent(dpid: bigint, inPort: number, data: Buffer): AppEvents['packetIn'] {
  return {
    dpid,
    msg: { type: 'OFPT_PACKET_IN', xid: 0, bufferId: OFP_NO_BUFFER, totalLen: data.length, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: inPort }], data },
  };
}

function tcpFrame(sl: number, dl: number, srcPort = 40000): Buffer {
  return ipv4Frame({ ethSrc: hostMac(sl, 1), ethDst: hostMac(dl, 1), src: hostIp(sl, 1), dst: hostIp(dl, 1), srcPort, dstPort: 80 });
}

describe('routing app (shell)', () => {
  let topo: FakeLeafSpine;
  let sws: FakeSwitches;
  let routing: RoutingApp;
  let lines: string[];
  let ctx: AppContext;

  beforeEach(() => {
    topo = FakeLeafSpine.leafSpine(SHAPE);
    sws = new FakeSwitches(topo.switches().map((s) => s.dpid));
    lines = [];
    const log = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
    routing = createRoutingApp({ topology: topo, clock: new ManualClock(1000), log, config: { seed: 11 } });
    ctx = sws.ctx(log);
    routing.app.attach!(ctx); // what the app host does at registration
  });

  afterEach(() => routing.stop());

  const packetIn = (e: AppEvents['packetIn']): void => void routing.app.handlers.packetIn!(e, ctx);

  it('sends the first packet at once, installs downstream hops, then the ingress, each with a barrier', async () => {
    packetIn(packetInEvent(leafDpid(1), HOST_PORT, tcpFrame(1, 2)));
    await routing.settled();
    const r = routing.routes()[0]!;
    const spine = BigInt(`0x${r.spine}`);
    expect(sws.ops.map((o) => `${o.op}:${o.dpid}:${o.types.join('+')}`)).to.deep.equal([
      `transact:${leafDpid(2)}:OFPT_FLOW_MOD`,
      `transact:${spine}:OFPT_FLOW_MOD`,
      `send:${leafDpid(1)}:OFPT_PACKET_OUT`,
      `transact:${leafDpid(1)}:OFPT_FLOW_MOD`,
    ]);
    expect(r.installed).to.equal(true);
    expect(r.createdMs).to.equal(1000);
  });

  it('ignores LLDP and unparsable frames', async () => {
    const lldp = Buffer.concat([Buffer.from('0180c200000e020000000101' + '88cc', 'hex'), Buffer.from('020704000000000001040302000106020078', 'hex'), Buffer.alloc(2)]);
    packetIn(packetInEvent(leafDpid(1), 1, lldp));
    packetIn(packetInEvent(leafDpid(1), 1, Buffer.alloc(5)));
    await routing.settled();
    expect(sws.ops).to.have.length(0);
  });

  it('a failed install is logged with the dpid, removes the route and deletes what was installed', async () => {
    sws.failTransact.add(leafDpid(2));
    packetIn(packetInEvent(leafDpid(1), HOST_PORT, tcpFrame(1, 2)));
    await routing.settled();
    expect(routing.routes()).to.have.length(0);
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['event'] === 'routing_install_failed');
    expect(failed?.['dpid']).to.equal('0000000000000002');
    const deletes = sws.ops.filter((o) => o.op === 'send' && o.msgs[0]!.type === 'OFPT_FLOW_MOD' && o.msgs[0]!.command === OFPFC.DELETE);
    expect(deletes.length).to.be.greaterThan(0);
    // the first packet had left at once; nothing else was released
    expect(sws.ops.filter((o) => o.types.includes('OFPT_PACKET_OUT'))).to.have.length(1);
  });

  it('re-pins on a fabric event through the context it captured, and stop() unsubscribes', async () => {
    packetIn(packetInEvent(leafDpid(1), HOST_PORT, tcpFrame(1, 3)));
    await routing.settled();
    const before = routing.routes()[0]!;
    sws.ops.length = 0;
    topo.failCable(leafDpid(3), BigInt(`0x${before.spine}`));
    await routing.settled();
    const after = routing.routes()[0]!;
    expect(after.repinned).to.equal(1);
    expect(after.spine).to.not.equal(before.spine);
    expect(sws.ops.filter((o) => o.op === 'transact')).to.have.length(3);
    // the stale entries deleted (besides the unicast-ARP entries re-sent because a link changed)
    const arp = (o: Op): boolean => o.msgs.every((m) => m.type === 'OFPT_FLOW_MOD' && m.cookie === ARP_UNICAST_COOKIE);
    expect(sws.ops.filter((o) => o.op === 'send' && !arp(o))).to.have.length(3);
    expect(sws.ops.filter((o) => o.op === 'send' && arp(o)).length, 'unicast-ARP entries re-sent').to.be.greaterThan(0);
    expect(topo.subscribers).to.equal(1);
    routing.stop();
    expect(topo.subscribers).to.equal(0);
  });

  it('a FLOW_REMOVED event removes the route; a switch that throws on send is logged, not fatal', async () => {
    packetIn(packetInEvent(leafDpid(1), HOST_PORT, tcpFrame(1, 2)));
    await routing.settled();
    const r = routing.routes()[0]!;
    sws.throwOnSend.add(spineDpid(1)).add(spineDpid(2));
    const fr: AppEvents['flowRemoved'] = {
      dpid: leafDpid(2),
      msg: {
        type: 'OFPT_FLOW_REMOVED', xid: 0, cookie: BigInt(`0x${r.cookie}`), priority: 1000, reason: 0, tableId: 0, durationSec: 10,
        durationNsec: 0, idleTimeout: 10, hardTimeout: 0, packetCount: 1n, byteCount: 60n, match: [],
      },
    };
    expect(() => routing.app.handlers.flowRemoved!(fr, ctx)).to.not.throw();
    expect(routing.routes()).to.have.length(0);
    expect(lines.some((l) => l.includes('routing_send_failed'))).to.equal(true);
  });
});
