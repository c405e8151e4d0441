/**
 * Public API of the OpenFlow 1.3.5 codec: the object model (types), typed errors, bounded reader /
 * writer, constants and names, struct codecs (match/OXM, actions, instructions, meter bands, buckets,
 * ports, queues), whole messages (encodeMessage / decodeMessage), stream framing (FrameDecoder) and
 * the multipart bodies.
 */
export * from './types.js';
export * from './errors.js';
export * from './buffer.js';
export * from './constants.js';
export * from './names.js';
export * from './oxm-fields.js';
export * from './oxm.js';
export * from './actions.js';
export * from './instructions.js';
export * from './meter.js';
export * from './group.js';
export * from './port.js';
export * from './queue.js';
export * from './messages.js';
export * from './framing.js';
export * from './multipart.js';
export * from './builders.js';
