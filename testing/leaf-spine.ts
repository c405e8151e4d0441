/**
 * The leaf-spine model of the test fabric: ONE numbering, shared by every fake (FakeLeafSpine, the
 * FakeFabric of switches, the REST fixtures, the topology simulator), and the fabric description
 * (switches with ports, the cables between them, the host-facing ports) built from it.
 *
 * Numbering (1-based): leaf i has dpid i ({@link leafDpid}), spine j has dpid 0x100 + j
 * ({@link spineDpid}). Leaf uplink ports are 1..spines (port j → spine j), host ports follow (host h on
 * port spines + h); spine port i faces leaf i. Host h of leaf i: MAC 02:00:00:00:ii:hh ({@link hostMac}),
 * IPv4 10.0.i.h ({@link hostIp}).
 */
import type { FabricPort, PortRef } from '../topology/types.js';

/** The shape of a leaf-spine fabric: spines, leaves and hosts per leaf. */
export interface LeafSpineShape {
  readonly spines: number;
  readonly leaves: number;
  readonly hostsPerLeaf: number;
}

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

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** dpid of leaf `i` (1-based). */
export function leafDpid(i: number): bigint {
  return BigInt(i);
}

/** dpid of spine `j` (1-based). */
export function spineDpid(j: number): bigint {
  return BigInt(0x100 + j);
}

/** MAC of host `h` (1-based) of leaf `leaf` (1-based). */
export function hostMac(leaf: number, h: number): string {
  return `02:00:00:00:${hex2(leaf)}:${hex2(h)}`;
}

/** IPv4 of host `h` (1-based) of leaf `leaf` (1-based). */
export function hostIp(leaf: number, h: number): string {
  return `10.0.${leaf}.${h}`;
}

/** A port with a MAC derived from dpid and number, up, 10 Gbit/s unless told. */
export function port(dpid: bigint, portNo: number, speedBps = 10e9, up = true): FabricPort {
  const b = [Number((dpid >> 8n) & 0xffn), Number(dpid & 0xffn), (portNo >> 8) & 0xff, portNo & 0xff];
  const hwAddr = ['02', '00', ...b.map((x) => x.toString(16).padStart(2, '0'))].join(':');
  return { portNo, name: `s${dpid}-eth${portNo}`, hwAddr, up, currSpeedBps: speedBps };
}

/** The fabric description of `nSpines` × `nLeaves` × `hostsPerLeaf`; `dpids` (spines, then leaves) default to the numbering above. */
export function leafSpine(
  nSpines: number,
  nLeaves: number,
  hostsPerLeaf: number,
  dpids?: readonly bigint[],
): FabricSpec {
  const ids = dpids ?? [
    ...Array.from({ length: nSpines }, (_, i) => spineDpid(i + 1)),
    ...Array.from({ length: nLeaves }, (_, j) => leafDpid(j + 1)),
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
