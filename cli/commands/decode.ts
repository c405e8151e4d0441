/**
 * `rivulet decode FILE.pcap [--port N]` (README.md "CLI"): prints every OpenFlow message of a capture as one
 * JSON object a line, in capture order, like `ovs-ofctl ofp-parse-pcap`. 64-bit integers are printed as
 * decimal strings, byte strings as hex; OFPT_ERROR messages also carry their type and code names.
 * Capture damage (gaps, truncated records, unparsable packets) is reported on stderr as warnings.
 * Exit status 2, with a one-line message, when the file cannot be read or is not a pcap.
 */
import type { Command } from 'commander';
import { errorNames } from '../../openflow/codec/index.js';
import { loadCapture } from '../../lib/packet/pcap.js';
import {
  decodeOpenFlowCapture,
  DEFAULT_OPENFLOW_PORTS,
  formatEndpoint,
  type OpenFlowRecord,
} from '../../openflow/capture-stream.js';

/** Registers the `decode` sub-command on the `rivulet` program. */
export function register(program: Command): void {
  program
    .command('decode')
    .description('print every OpenFlow message in a pcap capture as one JSON object per line')
    .argument('<file>', 'a libpcap capture (tcpdump -w)')
    .option('--port <ports>', `OpenFlow TCP port(s), comma-separated (default ${DEFAULT_OPENFLOW_PORTS.join(',')})`)
    .action(async (file: string, opts: { port?: string }) => {
      // a reader that goes away (`| head`) ends the output quietly instead of crashing on EPIPE
      let closed = false;
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        closed = true;
        if (e.code !== 'EPIPE') process.exitCode = 1;
      });
      const out = (s: string): void => {
        if (!closed) process.stdout.write(s);
      };
      const code = await runDecode(file, opts.port, out, (s) => process.stderr.write(s));
      if (!process.exitCode) process.exitCode = code;
    });
}

/**
 * The command's body with its outputs injected (for tests).
 * @returns the exit status: 0 on success, 2 for an unreadable file or a bad --port
 */
export async function runDecode(
  file: string,
  portOption: string | undefined,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const ports = parsePorts(portOption);
  if (!ports) {
    err(`rivulet decode: bad --port "${portOption}": expected TCP port numbers 1-65535, comma-separated\n`);
    return 2;
  }
  const loaded = await loadCapture(file);
  if (!loaded.ok) {
    err(`rivulet decode: cannot read ${file}: ${loaded.error.message}\n`);
    return 2;
  }
  const capture = loaded.value;
  for (const e of capture.errors) {
    if (e.code !== 'PKT_UNSUPPORTED_LINK') err(`rivulet decode: warning: ${e.message}\n`);
  }
  if (capture.errors.some((e) => e.code === 'PKT_UNSUPPORTED_LINK')) {
    err(`rivulet decode: warning: link-layer type ${capture.header.linkType} is not supported\n`);
  }
  for (const c of capture.connections) {
    for (const s of [c.toServer, c.toClient]) {
      for (const g of s.gaps) {
        err(`rivulet decode: warning: ${formatEndpoint(s.src)} > ${formatEndpoint(s.dst)}: ${g.length} bytes not captured at stream offset ${g.offset} (after frame ${g.afterFrame})\n`);
      }
    }
  }
  const lines: string[] = [];
  for (const r of decodeOpenFlowCapture(capture, { ports })) {
    lines.push(recordToJson(r));
    if (lines.length >= 512) out(lines.splice(0).join('\n') + '\n');
  }
  if (lines.length > 0) out(lines.join('\n') + '\n');
  return 0;
}

function parsePorts(opt: string | undefined): number[] | undefined {
  if (opt === undefined) return [...DEFAULT_OPENFLOW_PORTS];
  const ports = opt.split(',').map((p) => Number(p.trim()));
  return ports.length > 0 && ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535) ? ports : undefined;
}

/**
 * One record as a JSON line: frame, time (ISO, µs), direction, endpoints, type, xid, length, then the
 * decoded `message` or the `error` (code, OpenFlow error type/code, offset, text).
 */
export function recordToJson(r: OpenFlowRecord): string {
  const head = {
    frame: r.frame,
    time: isoMicros(r.timeUs),
    direction: r.direction,
    src: r.src,
    dst: r.dst,
    version: r.version,
    type: r.type,
    xid: r.xid,
    length: r.length,
  };
  if (r.error) {
    const e = r.error;
    return stringify({ ...head, error: { code: e.code, errType: e.errType, errCode: e.errCode, offset: e.offset, message: e.message } });
  }
  let message: object | undefined = r.message;
  if (r.message?.type === 'OFPT_ERROR') {
    const names = errorNames(r.message.errType, r.message.code);
    message = { ...r.message, errTypeName: names.type, codeName: names.code };
  }
  return stringify({ ...head, message });
}

/** JSON with bigints as decimal strings and Buffers (and typed arrays) as hex strings. */
export function stringify(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex');
    if (typeof v === 'bigint') return v.toString();
    return v;
  });
}

function isoMicros(tsUs: number): string {
  const ms = Math.floor(tsUs / 1000);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(tsUs);
  const micros = String(Math.floor(tsUs) % 1000).padStart(3, '0');
  return d.toISOString().replace(/Z$/, `${micros}Z`);
}
