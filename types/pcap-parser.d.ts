/**
 * Minimal declarations for pcap-parser 0.2 (no bundled types): an EventEmitter over a readable stream
 * of a libpcap 2.4 file. Only what Rivulet uses is declared.
 */
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';
  import type { Readable } from 'node:stream';

  /** The 24-byte pcap global header. */
  export interface PcapGlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }

  /** The 16-byte per-record header. */
  export interface PcapPacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }

  export interface PcapPacket {
    header: PcapPacketHeader;
    data: Buffer;
  }

  /**
   * Events: 'globalHeader' (PcapGlobalHeader), 'packetHeader' (PcapPacketHeader), 'packetData' (Buffer),
   * 'packet' (PcapPacket), 'error' (Error), 'end'. After an 'error' the parser also emits 'end'.
   */
  export interface PcapParser extends EventEmitter {
    /** the stream being read (the one passed in, or a file stream for a path) */
    stream: Readable;
    /** bytes buffered but not yet parsed (a partial record at end of input) */
    buffer: Buffer | null;
  }

  /** Starts parsing a file path or a readable stream on the next tick. */
  export function parse(input: string | Readable): PcapParser;

  const pcapParser: { parse: typeof parse };
  export default pcapParser;
}
