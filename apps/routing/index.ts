/**
 * Public API of the routing app (README.md "What is in place", Routing): the app shell, its pure core, the read view for the
 * REST API, and the cookie scheme other apps must not collide with.
 */
export { createRoutingApp, type RoutingApp, type RoutingAppOptions } from './app.js';
export { RoutingCore } from './core.js';
export { ROUTING_COOKIE_PREFIX, ROUTING_COOKIE_PREFIX_MASK, isRoutingCookie, routingCookie } from './builders.js';
export { flowKeyOf, flowKeyString, flowMatch } from './flow-key.js';
export { Prng } from './prng.js';
export {
  resolveRoutingConfig,
  type FlowKey,
  type ResolvedRoutingConfig,
  type RouteHopInfo,
  type RouteInfo,
  type RoutingConfig,
  type RoutingEffect,
} from './types.js';
