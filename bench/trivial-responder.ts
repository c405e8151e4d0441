/**
 * The generator's ceiling in `npm run bench:setup`: the least an OpenFlow 1.3 controller can do per flow
 * setup. Run in a worker thread (like Rivulet there): a TCP listener that sends HELLO and FEATURES_REQUEST,
 * installs a table-miss entry, answers ECHO_REQUESTs, and answers every PACKET_IN with one fixed FLOW_MOD
 * and a PACKET_OUT of the packet's data to port 2 — no parsing beyond the header, no state, the replies
 * of one read written as one buffer. Posts `{ port }` when listening; any message from the parent stops it.
 */
import net from 'node:net';
import { parentPort } from 'node:worker_threads';

function header(type: number, length: number, xid: number): Buffer {
  const b = Buffer.alloc(length);
  b[0] = 4;
  b[1] = type;
  b.writeUInt16BE(length, 2);
  b.writeUInt32BE(xid >>> 0, 4);
  return b;
}

/** FLOW_MOD ADD, priority 1, empty match, apply-actions output:2 (priority 0 + output:controller for the table-miss). */
function flowMod(priority: number, port: number): Buffer {
  const b = header(14, 56 + 8 + 16, 0);
  b.writeUInt16BE(priority, 30); // priority (cookie 8..23, table 25, command 24, idle 26, hard 28)
  b.writeUInt32BE(0xffffffff, 32); // buffer_id
  b.writeUInt32BE(0xffffffff, 36); // out_port any
  b.writeUInt32BE(0xffffffff, 40); // out_group any
  b.writeUInt16BE(1, 48); // match type OXM
  b.writeUInt16BE(4, 50); // empty match, padded to 8
  b.writeUInt16BE(4, 56); // OFPIT_APPLY_ACTIONS
  b.writeUInt16BE(24, 58);
  b.writeUInt16BE(0, 64); // OFPAT_OUTPUT
  b.writeUInt16BE(16, 66);
  b.writeUInt32BE(port, 68);
  b.writeUInt16BE(0xffff, 72); // max_len: no buffer
  return b;
}

const FLOW_MOD = flowMod(1, 2);
const TABLE_MISS = flowMod(0, 0xfffffffd);

function serve(sock: net.Socket): void {
  sock.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  sock.on('error', () => undefined);
  sock.write(Buffer.concat([header(0, 8, 1), header(5, 8, 2)]));
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const out: Buffer[] = [];
    let off = 0;
    while (buf.length - off >= 8) {
      const len = buf.readUInt16BE(off + 2);
      if (len < 8) return void sock.destroy();
      if (buf.length - off < len) break;
      const type = buf[off + 1];
      if (type === 10) {
        // PACKET_IN: data after the match (its length at +26, padded to 8) and 2 pad bytes
        const matchLen = buf.readUInt16BE(off + 26);
        const dataOff = off + 24 + Math.ceil(matchLen / 8) * 8 + 2;
        const data = buf.subarray(dataOff, off + len);
        const po = header(13, 24 + 16 + data.length, 0);
        po.writeUInt32BE(0xffffffff, 8); // no buffer
        po.writeUInt32BE(buf.readUInt32BE(off + 32), 12); // in_port from the match's first OXM
        po.writeUInt16BE(16, 16);
        po.writeUInt16BE(0, 24);
        po.writeUInt16BE(16, 26);
        po.writeUInt32BE(2, 28);
        data.copy(po, 40);
        out.push(FLOW_MOD, po);
      } else if (type === 2) {
        const r = Buffer.from(buf.subarray(off, off + len));
        r[1] = 3;
        out.push(r);
      } else if (type === 6) {
        out.push(TABLE_MISS);
      }
      off += len;
    }
    buf = off === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
    if (out.length > 0) sock.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  });
}

const sockets = new Set<net.Socket>();
const server = net.createServer((s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
  serve(s);
});
server.listen(0, '127.0.0.1', () => {
  parentPort?.postMessage({ port: (server.address() as net.AddressInfo).port });
});
parentPort?.on('message', () => {
  for (const s of sockets) s.destroy();
  server.close(() => parentPort?.close());
});
