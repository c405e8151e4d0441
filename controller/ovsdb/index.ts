/** OVSDB (RFC 7047): the client (I/O edge) and the pure QoS transaction builders. */
export { OvsdbError, OVSDB_ERROR_CODES, type OvsdbErrorCode } from './errors.js';
export { connectOvsdb, parseOvsdbAddress, txnFailure, DEFAULT_OVSDB_ADDRESS, type OvsdbClient, type OvsdbClientOptions } from './client.js';
export { JsonSplitter } from './framing.js';
export * from './qos-txn.js';
export * from './types.js';
