/**
 * Karuna/PIAS priority thresholds (pure): flow-size distributions, the M/G/1 multi-level-queue model of
 * the expected FCT, the demotion-threshold optimizer, and flowlet splitting. See the docstrings of each file, Karuna (SIGCOMM 2016) and PIAS (NSDI 2015).
 */
export * from './errors.js';
export * from './distribution.js';
export * from './model.js';
export * from './optimize.js';
export * from './flowlets.js';
