/**
 * Helpers for the enforcement core's tests: a fake leaf-spine (testing/fake-leaf-spine.ts), routes
 * pinned by hand (RouteInfo through a chosen spine), agents' messages, and a fake time.
 */
import type { EventsMsg, FiveTuple, FlowletStart, HelloMsg } from '../protocol/agent.js';
import { EnforcementCore, type CoreNotify } from '../apps/enforcement/core.js';
import type { EnforcementEffect, EnforcementSettings, Now } from '../apps/enforcement/types.js';
import { flowKeyString } from '../apps/routing/flow-key.js';
import type { FlowKey, RouteInfo } from '../apps/routing/types.js';
import { FakeLeafSpine, leafDpid, spineDpid } from './fake-leaf-spine.js';
import { dpidHex } from '../lib/dpid.js';
import { cookieHex } from '../lib/cookies.js';

export const SPINES = 2;
const hex = dpidHex;

/** 10.0.<leaf>.<host> (1-based, fake-leaf-spine numbering). */
export const ip = (leaf: number, host: number): string => `10.0.${leaf}.${host}`;

export function settings(over: Partial<EnforcementSettings> = {}): EnforcementSettings {
  return {
    policy: 'flowtune', iterationsPerRun: 1, rateChangeThreshold: 0.05, smallFlowletBytes: 50_000,
    mode: 'both', meterMarginFraction: 0.1, meterPer: 'flowlet', expiryMs: 5000, tenants: [],
    capacity: { links: {}, defaultBps: 100e6 },
    ...over,
  };
}

export class Harness {
  readonly topo = FakeLeafSpine.leafSpine({ spines: SPINES, leaves: 4, hostsPerLeaf: 2 });
  readonly routes = new Map<string, RouteInfo>();
  readonly notes: { level: string; event: string; fields: Record<string, unknown> }[] = [];
  readonly core: EnforcementCore;
  ms = 0;
  private serial = 0;

  constructor(over: Partial<EnforcementSettings> = {}) {
    const notify: CoreNotify = (level, event, fields) => this.notes.push({ level, event, fields });
    // FakeLeafSpine links are 1 Gbit/s; host links take capacity.defaultBps (100 Mbit/s by default here).
    this.core = new EnforcementCore(settings(over), this.topo, (k: FlowKey) => this.routes.get(flowKeyString(k)), notify);
  }

  now(): Now {
    return { ms: this.ms, epochUs: 1_700_000_000_000_000 + this.ms * 1000 };
  }

  /** Pins a flow from host (sl, sh) to (dl, dh) through spine `spine` (1-based); same leaf: one hop. */
  pin(t: FiveTuple, spine = 1, extra: Partial<RouteInfo> = {}): RouteInfo {
    const [, , sl, sh] = t.src.split('.').map(Number) as [number, number, number, number];
    const [, , dl, dh] = t.dst.split('.').map(Number) as [number, number, number, number];
    const path = sl === dl
      ? [{ dpid: hex(leafDpid(sl)), inPort: SPINES + sh, outPort: SPINES + dh }]
      : [
          { dpid: hex(leafDpid(sl)), inPort: SPINES + sh, outPort: spine },
          { dpid: hex(spineDpid(spine)), inPort: sl, outPort: dl },
          { dpid: hex(leafDpid(dl)), inPort: spine, outPort: SPINES + dh },
        ];
    const flowKey = keyOf(t);
    const r: RouteInfo = {
      flowKey, srcHost: 'src', dstHost: 'dst', path, choice: { index: spine - 1, of: SPINES },
      cookie: cookieHex(BigInt(++this.serial)), installed: true, createdMs: this.ms, repinned: 0, ...extra,
    };
    this.routes.set(flowKeyString(flowKey), r);
    return r;
  }

  hello(agentId: string, active: FlowletStart[] = [], ipv4 = ['10.0.1.1']): void {
    const msg: HelloMsg = { type: 'hello', version: 1, agentId, hostname: agentId, interface: 'eth0', ipv4, active };
    this.core.hello(msg, this.now());
  }

  events(agentId: string, e: Partial<Omit<EventsMsg, 'type'>>): void {
    this.core.events(agentId, { type: 'events', seq: 0, starts: [], progress: [], ends: [], enforced: [], ...e }, this.now());
  }

  run(): EnforcementEffect[] {
    return this.core.run(this.now());
  }

  /** Runs `n` times (advancing 100 ms each); returns the effects of the last run. */
  runs(n: number): EnforcementEffect[] {
    let last: EnforcementEffect[] = [];
    for (let i = 0; i < n; i++) {
      this.ms += 100;
      last = this.run();
    }
    return last;
  }
}

export function tuple(src: string, dst: string, sport = 40000, dport = 5201, proto = 6): FiveTuple {
  return { src, dst, proto, sport, dport };
}

export function keyOf(t: FiveTuple): FlowKey {
  return { ipv4Src: t.src, ipv4Dst: t.dst, ipProto: t.proto, srcPort: t.sport, dstPort: t.dport };
}

export function start(id: string, flow: FiveTuple, over: Partial<FlowletStart> = {}): FlowletStart {
  return { id, flow, firstPacketEpochUs: 1_700_000_000_000_000, bytes: 100_000, ...over };
}

/** The last rate pushed per agent/flowlet over a list of effects. */
export function ratesOf(effects: readonly EnforcementEffect[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of effects) if (e.kind === 'rates') for (const s of e.msg.set) m.set(`${e.agentId}/${s.id}`, s.rateBps);
  return m;
}

export function meterSets(effects: readonly EnforcementEffect[]): Extract<EnforcementEffect, { kind: 'meterSet' }>[] {
  return effects.filter((e): e is Extract<EnforcementEffect, { kind: 'meterSet' }> => e.kind === 'meterSet');
}
