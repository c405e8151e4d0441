/**
 * The `routing` section of the configuration (README.md "Configuration"): the seed of the path choice,
 * the pinned entries' priority and idle timeout, the route table's bounds, the ARP probe budget. The
 * routing app receives this section as it is (its RoutingConfig keys); controller/config composes it
 * into the file's schema.
 */
import { Type, type StaticDecode } from '@sinclair/typebox';
import { int, SECTION } from '../../lib/config-schema.js';

export const RoutingSection = Type.Object(
  {
    seed: int(0, 0xffffffff, 1, 'seed of the random choice among equal-cost paths (same seed, same choices)'),
    idleTimeoutS: int(0, 65535, 10, 'idle timeout of pinned flow entries, s (0 = none)'),
    priority: int(1, 65535, 1000, 'priority of pinned flow entries'),
    maxRoutes: int(1, 10_000_000, 20_000, 'pinned flows at most (all switches); beyond, the least recently used route of a port holding at least half as many as the port holding the most is removed with its entries'),
    maxRoutesPerSwitch: int(1, 10_000_000, 5000, 'pinned flows crossing one switch at most (bounds its flow table); beyond, the least recently used route through it of a port holding at least half as many there as the port holding the most is removed'),
    maxProbesPerSecond: int(0, 1_000_000, 50, 'ARP probes for unknown destinations per second at most, all addresses together (0 = none sent)'),
  },
  { ...SECTION, description: 'explicit path pinning (random among equal-cost paths)' },
);

/** The `routing` section, validated, defaults filled in. */
export type RoutingSectionConfig = StaticDecode<typeof RoutingSection>;
