/**
 * `rivulet decode` (cli/commands/decode.ts): one JSON object per OpenFlow message, bigints as decimal
 * strings, byte strings as hex, ERROR names added; exit status 2 with one line for an unreadable file.
 */
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { recordToJson, runDecode, stringify } from '../../cli/commands/decode.js';

const CAPTURES = fileURLToPath(new URL('../../../test/fixtures/captures/', import.meta.url));

async function decode(file: string, port?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runDecode(file, port, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

describe('cli: rivulet decode', () => {
  it('prints one JSON object per OpenFlow message of the Ericsson capture', async () => {
    const r = await decode(`${CAPTURES}of13_ericsson.pcap`, '6633');
    expect(r.code).to.equal(0);
    const lines = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(lines).to.have.length(103);
    const first = lines[0]!;
    expect(first).to.include({ frame: 1, direction: 'controller→switch', src: '127.0.0.1:6633', type: 'OFPT_FLOW_MOD', xid: 409, length: 184 });
    expect(first['time']).to.equal('2013-10-19T15:52:49.322823Z');
    expect(first['message'].cookie).to.equal('123456'); // 0x1e240 as a decimal string
    const echo = lines.find((l) => l['type'] === 'OFPT_ECHO_REQUEST' && l['length'] === 21)!;
    expect(echo['message'].data).to.match(/^[0-9a-f]{26}$/); // 13 bytes as hex
    const error = lines.find((l) => l['type'] === 'OFPT_ERROR')!;
    expect(error['message']).to.include({ errTypeName: 'OFPET_BAD_ACTION', codeName: 'OFPBAC_BAD_EXPERIMENTER' });
    const rejected = lines.find((l) => l['error'])!;
    expect(rejected['error']).to.include({ code: 'OFP_ERR_BAD_VERSION', errType: 1, errCode: 0 });
    expect(r.err).to.match(/bytes not captured/); // the capture's holes are reported, on stderr
  });

  it('finds nothing on a port without OpenFlow, and defaults to 6653 and 6633', async () => {
    expect((await decode(`${CAPTURES}of13_ericsson.pcap`, '6653')).out).to.equal('');
    expect((await decode(`${CAPTURES}of13_ericsson.pcap`)).out.trimEnd().split('\n')).to.have.length(103);
  });

  it('exits 2 with a one-line message for an unreadable file, a non-pcap file or a bad --port', async () => {
    for (const [file, port] of [[`${CAPTURES}missing.pcap`, undefined], [CAPTURES, undefined], [`${CAPTURES}../SOURCES.md`, undefined], [`${CAPTURES}of13_ericsson.pcap`, '70000']] as const) {
      const r = await decode(file, port);
      expect(r.code, file).to.equal(2);
      expect(r.out).to.equal('');
      expect(r.err.trimEnd().split('\n'), r.err).to.have.length(1);
      expect(r.err).to.match(/^rivulet decode: /);
    }
  });

  it('stringify: bigints as decimal strings, Buffers as hex, nested', () => {
    expect(stringify({ a: 2n ** 64n - 1n, b: Buffer.from([0, 255]), c: [{ d: Buffer.alloc(0) }] })).to.equal(
      '{"a":"18446744073709551615","b":"00ff","c":[{"d":""}]}',
    );
    expect(typeof recordToJson).to.equal('function');
  });
});
