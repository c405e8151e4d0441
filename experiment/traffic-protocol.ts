/**
 * The wire format of `rivulet traffic` (pure): a flow of S bytes on a TCP connection is a 16-byte header
 * followed by S − 16 bytes of zeros, so the flow is exactly S bytes of TCP payload; on a kept-alive
 * connection flows follow each other.
 *
 *   offset 0  u32  magic 0x52564c54 ("RVLT")
 *   offset 4  u32  flow id
 *   offset 8  u64  S, the flow's total bytes including this header (≥ 16)
 *
 * {@link FlowReceiver} counts bytes of a connection's stream and reports each flow once its S bytes are in,
 * and (optionally) every piece of a flow's bytes as it arrives, for receiver-side throughput over time.
 */
export const TRAFFIC_MAGIC = 0x52564c54;
export const HEADER_BYTES = 16;

export function encodeHeader(flowId: number, sizeBytes: number): Buffer {
  if (!(Number.isInteger(sizeBytes) && sizeBytes >= HEADER_BYTES)) throw new RangeError(`flow size must be an integer ≥ ${HEADER_BYTES}, got ${sizeBytes}`);
  const b = Buffer.alloc(HEADER_BYTES);
  b.writeUInt32BE(TRAFFIC_MAGIC, 0);
  b.writeUInt32BE(flowId >>> 0, 4);
  b.writeBigUInt64BE(BigInt(sizeBytes), 8);
  return b;
}

/** Parses one connection's byte stream into completed flows. */
export class FlowReceiver {
  private header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private flowId = -1;
  private remaining = 0;
  private sizeBytes = 0;

  /**
   * Feeds received bytes; calls `done(flowId, sizeBytes)` for every flow whose last byte is in `chunk`, and
   * `arrived(flowId, bytes)` for every piece of a flow in `chunk` (its 16 header bytes once the header is
   * whole, then each run of payload), so the pieces of a flow sum to its S bytes.
   * @throws Error on a bad magic (not our protocol): the caller closes the connection
   */
  push(chunk: Buffer, done: (flowId: number, sizeBytes: number) => void, arrived?: (flowId: number, bytes: number) => void): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.remaining === 0) {
        const n = Math.min(HEADER_BYTES - this.headerFill, chunk.length - off);
        chunk.copy(this.header, this.headerFill, off, off + n);
        this.headerFill += n;
        off += n;
        if (this.headerFill < HEADER_BYTES) return;
        this.headerFill = 0;
        if (this.header.readUInt32BE(0) !== TRAFFIC_MAGIC) throw new Error('bad magic: not a rivulet traffic stream');
        this.flowId = this.header.readUInt32BE(4);
        this.sizeBytes = Number(this.header.readBigUInt64BE(8));
        if (this.sizeBytes < HEADER_BYTES) throw new Error(`bad flow size ${this.sizeBytes}`);
        this.remaining = this.sizeBytes - HEADER_BYTES;
        arrived?.(this.flowId, HEADER_BYTES);
        if (this.remaining === 0) {
          done(this.flowId, this.sizeBytes);
          continue;
        }
      }
      const n = Math.min(this.remaining, chunk.length - off);
      this.remaining -= n;
      off += n;
      arrived?.(this.flowId, n);
      if (this.remaining === 0) done(this.flowId, this.sizeBytes);
    }
  }
}
