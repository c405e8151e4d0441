/** Moved to testing/ovsdb-rows.ts (the Mininet driver is shared with `rivulet experiment`); kept for the tests that import it from here. */
export * from '../../testing/ovsdb-rows.js';
