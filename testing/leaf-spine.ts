/**
 * Leaf-spine fabric descriptions for topology tests: switches with ports, the cables between them and
 * the host-facing ports. Leaf uplink ports are 1..spines (port i → spine i), host ports follow; spine
 * port j faces leaf j. dpids are given (any values) or default to spines 0x100+i, leaves 0x200+j.
 */
import type { FabricPort, PortRef } from '../topology/types.js';

export interface SwitchSpec {
  readonly dpid: bigint;
  readonly ports: readonly FabricPort[];
}

/** A cable between two switch ports (LLDP sees it in both directions). */
export interface Wire {
  readonly a: PortRef;
  readonly b: PortRef;
}

export interface FabricSpec {
  readonly spines: readonly bigint[];
  readonly leaves: readonly bigint[];
  readonly switches: readonly SwitchSpec[];
  readonly wires: readonly Wire[];
  /** host-facing ports, leaf by leaf */
  readonly hostPorts: readonly PortRef[];
}

/** A port with a MAC derived from dpid and number, up, 10 Gbit/s unless told. */
export function port(dpid: bigint, portNo: number, speedBps = 10e9, up = true): FabricPort {
  const b = [Number((dpid >> 8n) & 0xffn), Number(dpid & 0xffn), (portNo >> 8) & 0xff, portNo & 0xff];
  const hwAddr = ['02', '00', ...b.map((x) => x.toString(16).padStart(2, '0'))].join(':');
  return { portNo, name: `s${dpid}-eth${portNo}`, hwAddr, up, currSpeedBps: speedBps };
}

export function leafSpine(
  nSpines: number,
  nLeaves: number,
  hostsPerLeaf: number,
  dpids?: readonly bigint[],
): FabricSpec {
  const ids = dpids ?? [
    ...Array.from({ length: nSpines }, (_, i) => 0x100n + BigInt(i + 1)),
    ...Array.from({ length: nLeaves }, (_, j) => 0x200n + BigInt(j + 1)),
  ];
  const spines = ids.slice(0, nSpines);
  const leaves = ids.slice(nSpines, nSpines + nLeaves);
  const switches: SwitchSpec[] = [
    ...spines.map((d) => ({ dpid: d, ports: leaves.map((_, j) => port(d, j + 1)) })),
    ...leaves.map((d) => ({ dpid: d, ports: Array.from({ length: nSpines + hostsPerLeaf }, (_, k) => port(d, k + 1)) })),
  ];
  const wires: Wire[] = [];
  spines.forEach((s, i) => leaves.forEach((l, j) => wires.push({ a: { dpid: l, portNo: i + 1 }, b: { dpid: s, portNo: j + 1 } })));
  const hostPorts = leaves.flatMap((l) => Array.from({ length: hostsPerLeaf }, (_, k) => ({ dpid: l, portNo: nSpines + k + 1 })));
  return { spines, leaves, switches, wires, hostPorts };
}
