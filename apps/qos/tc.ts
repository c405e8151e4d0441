/**
 * Pure text of the `tc` work on one port and the parser of its counters (ARCHITECTURE.md "Platform facts": `set_queue` does not
 * steer packets in the userspace datapath; a u32 filter on the port's HTB does).
 *
 * - DSCP classifier: one `u32 match ip tos <dscp<<2> 0xfc flowid 1:<queue+1>` per mapped DSCP, at filter
 *   priority {@link FILTER_PRIO} under the root HTB `1:` that ovs-vswitchd installs for linux-htb; the batch
 *   first deletes every filter at that priority, so applying twice leaves the same filters.
 * - Control frames (LLDP probes, ARP) go to the highest queue (filter priorities in {@link CONTROL_ETHERTYPES}):
 *   they are not IP, so the DSCP classifier leaves them in queue 0, and under strict priority a probe
 *   waiting behind bulk data in the lowest queue reports a link delay of the queue's, not the link's
 *   (measured here: 130–150 ms probes on a 20 Mbit/s fabric under PIAS classes, links flagged by the
 *   probe-delay guard).
 * - ECN: RED with `ecn` as the leaf qdisc of each class (handle (q+0x10):), marking from K packets
 *   (`min` = K·packetBytes, `max` one packet above, probability 1: DCTCP's step marking).
 *
 * PicOS equivalent (Pica8; from its CLI documentation, not run here): packets are steered by `set_queue`
 * in the flow entries (hardware queues 0–7 per port; routing adds it), so no classifier is needed. The
 * per-queue threshold is WRED on the egress queue:
 *   set interface gigabit-ethernet <port> wred queue <q> enable true
 *   set interface gigabit-ethernet <port> wred queue <q> min_thresh <K> max_thresh <K+1> drop_probability 100
 * then `commit`. Whether a PicOS release marks ECN-capable packets instead of dropping them at that
 * threshold (and the unit of the thresholds) must be checked on the release in use; it was not verified
 * here. K is the plan's thresholdPackets (thresholdBytes for byte-based platforms).
 */
import type { PortPlan } from './plan.js';

/** tc filter priority ("pref") of Rivulet's DSCP filters: the batch replaces exactly these. */
export const FILTER_PRIO = 21;
/**
 * EtherTypes steered to the highest queue, each at its own tc filter priority (tc allows one protocol per
 * priority): LLDP (IEEE 802.1AB) at 22, ARP at 23.
 */
export const CONTROL_ETHERTYPES: readonly { readonly etherType: number; readonly prio: number }[] = [{ etherType: 0x88cc, prio: 22 }, { etherType: 0x0806, prio: 23 }];
/** Handle of the RED qdisc under queue q's class. */
export const redHandle = (q: number): string => `${(q + 0x10).toString(16)}:`;

/** HTB class of queue q on linux-htb (OVS: queue N → class 1:(N+1), hex). */
export function classOfQueue(q: number): string {
  return `1:${(q + 1).toString(16)}`;
}

/** One u32 filter line (for `tc -batch`) steering one DSCP to one queue's class. */
export function dscpFilterLine(dev: string, dscp: number, queue: number): string {
  const tos = `0x${((dscp << 2) & 0xff).toString(16).padStart(2, '0')}`;
  return `filter add dev ${dev} parent 1: protocol ip prio ${FILTER_PRIO} u32 match ip tos ${tos} 0xfc flowid ${classOfQueue(queue)}`;
}

/** The delete line that clears Rivulet's filters (fails harmlessly when there are none: it must come first). */
export function clearFiltersLine(dev: string): string {
  return `filter del dev ${dev} parent 1: protocol ip prio ${FILTER_PRIO}`;
}

/** tc's `protocol` argument of an EtherType, e.g. `0x88cc`. */
const protocolOf = (etherType: number): string => `0x${etherType.toString(16).padStart(4, '0')}`;

/** The filter line steering every frame of one EtherType to queue `queue`'s class. */
export function etherTypeFilterLine(dev: string, etherType: number, prio: number, queue: number): string {
  return `filter add dev ${dev} parent 1: protocol ${protocolOf(etherType)} prio ${prio} u32 match u32 0 0 flowid ${classOfQueue(queue)}`;
}

/** The first lines of {@link classifierBatch} that delete old filters (they fail harmlessly when there are none). */
export const CLASSIFIER_CLEAR_LINES = 1 + CONTROL_ETHERTYPES.length;

/**
 * Lines of the classifier of a port: clear (DSCP filters, then each control EtherType's), one filter per
 * mapped DSCP (queue 0 is HTB's default), then LLDP and ARP to the highest queue (none with one queue).
 */
export function classifierBatch(p: PortPlan): string[] {
  const lines = [clearFiltersLine(p.portName)];
  for (const c of CONTROL_ETHERTYPES) lines.push(`filter del dev ${p.portName} parent 1: protocol ${protocolOf(c.etherType)} prio ${c.prio}`);
  for (const [dscp, q] of [...p.dscpToQueue].sort((a, b) => a[0] - b[0])) if (q !== 0) lines.push(dscpFilterLine(p.portName, dscp, q));
  const top = p.queues.length - 1;
  if (top > 0) for (const c of CONTROL_ETHERTYPES) lines.push(etherTypeFilterLine(p.portName, c.etherType, c.prio, top));
  return lines;
}

/** RED-with-ECN qdisc under each class (`replace`, so idempotent), bandwidth = capacity. */
export function ecnBatch(p: PortPlan, bufferPackets: number, packetBytes: number): string[] {
  const min = p.ecn.thresholdBytes;
  const max = min + packetBytes;
  const limit = Math.max(bufferPackets * packetBytes, max * 2);
  const burst = Math.ceil((2 * min + max) / (3 * packetBytes));
  return p.queues.map(
    (q) =>
      `qdisc replace dev ${p.portName} parent ${classOfQueue(q.id)} handle ${redHandle(q.id)} red limit ${limit} min ${min} max ${max} ` +
      `avpkt ${packetBytes} burst ${burst} probability 1.0 bandwidth ${Math.round(p.capacityBps)}bit ecn`,
  );
}

/**
 * A drop-tail FIFO of `bufferPackets` under each class (where RED/ECN is not applied): the port's buffer
 * per queue, instead of the interface's txqueuelen (1000 on veth) that HTB leaves use by default. Keeps the
 * queueing delay of a starved low class bounded, so its TCP recovers quickly when the high class stops.
 */
export function bufferBatch(p: PortPlan, bufferPackets: number): string[] {
  return p.queues.map((q) => `qdisc replace dev ${p.portName} parent ${classOfQueue(q.id)} handle ${redHandle(q.id)} pfifo limit ${bufferPackets}`);
}

/** Counters of one HTB class (`tc -s class show dev X`). */
export interface TcClassStats {
  /** e.g. `1:4` */
  readonly classId: string;
  readonly bytes: number;
  readonly packets: number;
  readonly dropped: number;
  readonly overlimits: number;
  readonly backlogBytes: number;
  readonly backlogPackets: number;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, Kb: 1024, Mb: 1024 * 1024, Gb: 1024 ** 3 };

/** Parses `tc -s class show dev X` text (iproute2 6.x) into per-class counters. */
export function parseTcClassStats(text: string): TcClassStats[] {
  const out: TcClassStats[] = [];
  for (const block of text.split(/^(?=class )/m)) {
    const head = /^class \S+ ([0-9a-f]+:[0-9a-f]+)/.exec(block);
    const sent = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(block);
    if (!head || !sent) continue;
    const backlog = /backlog (\d+)(b|Kb|Mb|Gb) (\d+)p/.exec(block);
    out.push({
      classId: head[1]!,
      bytes: Number(sent[1]),
      packets: Number(sent[2]),
      dropped: Number(sent[3]),
      overlimits: Number(sent[4]),
      backlogBytes: backlog ? Number(backlog[1]) * SIZE_UNITS[backlog[2]!]! : 0,
      backlogPackets: backlog ? Number(backlog[3]) : 0,
    });
  }
  return out;
}

/** The lines of a `tc -batch` run that failed, from its stderr (`Command failed -:N`), 1-based. */
export function failedBatchLines(stderr: string): number[] {
  return [...stderr.matchAll(/Command failed -:(\d+)/g)].map((m) => Number(m[1]));
}
