/** OVSDB (RFC 7047): the client (I/O edge), its errors, framing and value types. The QoS transactions are apps/qos/ovsdb-txn.ts. */
export { OvsdbError, OVSDB_ERROR_CODES, type OvsdbErrorCode } from './errors.js';
export { connectOvsdb, parseOvsdbAddress, txnFailure, DEFAULT_OVSDB_ADDRESS, type OvsdbClient, type OvsdbClientOptions } from './client.js';
export { JsonSplitter } from './framing.js';
export * from './types.js';
