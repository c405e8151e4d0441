/** Moved to testing/mininet.ts (the Mininet driver is shared with `rivulet experiment`); kept for the tests that import it from here. */
export * from '../../testing/mininet.js';
