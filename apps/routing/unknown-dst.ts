/**
 * Bookkeeping for packets to destinations the topology does not know yet (pure; time passed in):
 * which packets wait for which address, and when the last ARP probe for an address went out.
 *
 * A packet waits at most {@link WAIT_PACKETS} per address and {@link WAIT_PERIODS} probe intervals; a
 * probe goes out at most once per interval per address. Both tables are bounded.
 */
import type { PacketInput } from './types.js';

export const WAIT_PACKETS = 8;
export const WAIT_PERIODS = 3;
const MAX_ADDRESSES = 1024;
const MAX_PROBED = 4096;

export class UnknownDestinations {
  private readonly probes = new Map<string, number>();
  private readonly waiting = new Map<string, { sinceMs: number; packets: PacketInput[] }>();

  private windowStartMs = -Infinity;
  private probesInWindow = 0;
  /** probes not sent because the per-second budget was spent */
  suppressed = 0;

  /**
   * @param probeIntervalMs    at most one probe per address per interval
   * @param maxProbesPerSecond at most this many probes per second, all addresses together (0: none)
   */
  constructor(private readonly probeIntervalMs: number, private readonly maxProbesPerSecond = Infinity) {}

  /** Keeps `p` until `ip` is known (or the wait expires); returns whether a probe for `ip` is due now. */
  hold(ip: string, p: PacketInput, now: number): boolean {
    this.wait(ip, p, now);
    const last = this.probes.get(ip);
    if (last !== undefined && now - last < this.probeIntervalMs) return false;
    if (now - this.windowStartMs >= 1000) {
      this.windowStartMs = now;
      this.probesInWindow = 0;
    }
    if (this.probesInWindow >= this.maxProbesPerSecond) {
      this.suppressed++;
      return false;
    }
    this.probesInWindow++;
    if (this.probes.size >= MAX_PROBED) {
      for (const [k, t] of this.probes) if (now - t >= this.probeIntervalMs) this.probes.delete(k);
    }
    this.probes.set(ip, now);
    return true;
  }

  /** `ip` became known: the packets that waited for it and are still fresh, oldest first. */
  take(ip: string, now: number): PacketInput[] {
    const w = this.waiting.get(ip);
    if (!w) return [];
    this.waiting.delete(ip);
    this.probes.delete(ip);
    return now - w.sinceMs > this.horizonMs ? [] : w.packets;
  }

  private get horizonMs(): number {
    return WAIT_PERIODS * this.probeIntervalMs;
  }

  private wait(ip: string, p: PacketInput, now: number): void {
    const expired = (since: number): boolean => now - since > this.horizonMs;
    if (!this.waiting.has(ip) && this.waiting.size >= MAX_ADDRESSES) {
      for (const [k, w] of this.waiting) if (expired(w.sinceMs)) this.waiting.delete(k);
      if (this.waiting.size >= MAX_ADDRESSES) return;
    }
    const w = this.waiting.get(ip);
    if (!w || expired(w.sinceMs)) this.waiting.set(ip, { sinceMs: now, packets: [p] });
    else if (w.packets.length < WAIT_PACKETS) w.packets.push(p);
  }
}
