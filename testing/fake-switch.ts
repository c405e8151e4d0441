/**
 * A minimal OpenFlow 1.3 switch over real TCP (loopback) for controller tests without OVS: answers
 * HELLO, FEATURES_REQUEST (with its dpid), PORT_DESC, BARRIER and ECHO requests, records every message
 * the controller sends, and can send anything (including raw bytes) back.
 */
import net from 'node:net';
import tls from 'node:tls';
import { FrameDecoder, decodeMessage, encodeMessage, type OfpMessage } from '../openflow/codec/index.js';

export class FakeSwitch {
  readonly received: OfpMessage[] = [];
  closed = false;
  /** false: ECHO_REQUESTs go unanswered (a hung switch whose TCP connection is still open). */
  answerEcho = true;
  /**
   * Answers to multipart requests other than PORT_DESC: a message, raw bytes (e.g. a malformed body),
   * or undefined (no answer). `xid` is the request's.
   */
  multipartAnswer: ((mpType: string, xid: number) => OfpMessage | Buffer | undefined) | undefined;
  private readonly frames = new FrameDecoder();

  private constructor(
    private readonly sock: net.Socket | tls.TLSSocket,
    readonly dpid: bigint,
  ) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => undefined);
    this.send({ type: 'OFPT_HELLO', xid: 1, version: 4, elements: [{ type: 'OFPHET_VERSIONBITMAP', bitmaps: [0x10] }] });
  }

  /** Connects to 127.0.0.1:`port` and starts the switch side of the handshake. */
  static connect(port: number, dpid: bigint): Promise<FakeSwitch> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => resolve(new FakeSwitch(sock, dpid)));
      sock.once('error', reject);
    });
  }

  /** Connects over TLS (mutual: `key`/`cert` are the switch's, `ca` verifies the controller). */
  static connectTls(port: number, dpid: bigint, opts: { key: Buffer; cert: Buffer; ca: Buffer }): Promise<FakeSwitch> {
    return new Promise((resolve, reject) => {
      const sock = tls.connect({ port, host: '127.0.0.1', ...opts, checkServerIdentity: () => undefined }, () => resolve(new FakeSwitch(sock, dpid)));
      sock.once('error', reject);
    });
  }

  send(msg: OfpMessage | Buffer): void {
    this.sock.write(Buffer.isBuffer(msg) ? msg : encodeMessage(msg));
  }

  /** Closes the connection (FIN). */
  end(): void {
    this.sock.end();
  }

  destroy(): void {
    this.sock.destroy();
  }

  private onData(chunk: Buffer): void {
    this.frames.push(chunk);
    for (let f = this.frames.next(); f !== undefined; f = this.frames.next()) {
      if (!Buffer.isBuffer(f)) return;
      const r = decodeMessage(f);
      if (!r.ok) continue;
      this.received.push(r.value);
      this.answer(r.value);
    }
  }

  private answer(m: OfpMessage): void {
    switch (m.type) {
      case 'OFPT_FEATURES_REQUEST':
        return this.send({
          type: 'OFPT_FEATURES_REPLY', xid: m.xid, datapathId: this.dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0,
          capabilities: 0x4f, reserved: 0,
        });
      case 'OFPT_MULTIPART_REQUEST':
        if (m.body.mpType === 'OFPMP_PORT_DESC') {
          return this.send({ type: 'OFPT_MULTIPART_REPLY', xid: m.xid, flags: 0, body: { mpType: 'OFPMP_PORT_DESC', ports: [] } });
        }
        {
          const answer = this.multipartAnswer?.(m.body.mpType, m.xid);
          if (answer !== undefined) this.send(answer);
        }
        return;
      case 'OFPT_BARRIER_REQUEST':
        return this.send({ type: 'OFPT_BARRIER_REPLY', xid: m.xid });
      case 'OFPT_ECHO_REQUEST':
        if (!this.answerEcho) return;
        return this.send({ type: 'OFPT_ECHO_REPLY', xid: m.xid, data: m.data });
      default:
        return;
    }
  }
}
