/**
 * Meter bands (OpenFlow 1.3.5 §7.3.4.4, ofp_meter_band_header): {u16 type, u16 len, u32 rate,
 * u32 burst_size} then the type's fields. Rates in kbit/s or packets/s, bursts in kbit or packets, per
 * the meter's OFPMF_* flags. Every decode failure is OFP_ERR_BAD_BAND.
 */
import type { OfReader, OfWriter } from './buffer.js';
import { OfpEncodeError } from './errors.js';
import { METER_BAND_TYPE_CODES, meterBandTypeName } from './names.js';
import type { MeterBand } from './types.js';
import { OFPM } from './constants.js';

/**
 * The highest flow meter id to use on a switch whose OFPMP_METER_FEATURES reply gives `maxMeter`
 * (§7.3.5.13: meters are numbered 1..max_meter): `maxMeter`, kept below OFPM_MAX (§7.3.4.4, the last
 * flow meter id before the virtual ones), and 0 for a switch without meters.
 */
export function highestMeterId(maxMeter: number): number {
  return Math.max(0, Math.min(maxMeter, OFPM.MAX - 1));
}

/**
 * Writes one band: drop (16 bytes: header + pad[4]), dscp_remark (16: header + prec_level u8 + pad[3]),
 * experimenter (16 + data: header + experimenter u32 + data, data a multiple of 8 bytes).
 * @throws OfpEncodeError
 */
export function encodeMeterBand(w: OfWriter, b: MeterBand): void {
  const code = METER_BAND_TYPE_CODES[b.type];
  if (code === undefined) throw new OfpEncodeError(`unknown meter band type ${String(b.type)}`);
  const start = w.offset;
  w.u16(code);
  const lenAt = w.placeholderU16();
  w.u32(b.rate).u32(b.burstSize);
  if (b.type === 'OFPMBT_DROP') w.zeros(4);
  else if (b.type === 'OFPMBT_DSCP_REMARK') w.u8(b.precLevel).zeros(3);
  else {
    if (!Buffer.isBuffer(b.data) || b.data.length % 8 !== 0) {
      throw new OfpEncodeError('experimenter band data must be a Buffer of a multiple of 8 bytes');
    }
    w.u32(b.experimenter).bytes(b.data);
  }
  w.patchU16(lenAt, w.offset - start);
}

/** Writes a band list (the enclosing structure carries the length). */
export function encodeMeterBands(w: OfWriter, bands: readonly MeterBand[]): void {
  for (const b of bands) encodeMeterBand(w, b);
}

/**
 * Reads one band. OFP_ERR_BAD_BAND for an unknown type, a length that is not 16 (drop, dscp_remark) or
 * not ≥ 16 and a multiple of 8 (experimenter), a length past the end, or non-zero padding.
 */
export function decodeMeterBand(r: OfReader): MeterBand {
  r.need(4, 'meter band header', 'OFP_ERR_BAD_BAND');
  const typeCode = r.u16();
  const len = r.u16();
  const type = meterBandTypeName(typeCode);
  if (!type) r.fail('OFP_ERR_BAD_BAND', `unknown meter band type ${typeCode}`);
  const fixed = type !== 'OFPMBT_EXPERIMENTER';
  if (fixed ? len !== 16 : len < 16 || len % 8 !== 0) r.fail('OFP_ERR_BAD_BAND', `${type} with length ${len}`);
  const body = r.sub(len - 4, 'OFP_ERR_BAD_BAND');
  const rate = body.u32();
  const burstSize = body.u32();
  const zeroPad = (n: number): void => {
    for (let i = 0; i < n; i++) if (body.u8() !== 0) body.fail('OFP_ERR_BAD_BAND', 'non-zero band padding');
  };
  if (type === 'OFPMBT_DROP') {
    zeroPad(4);
    return { type, rate, burstSize };
  }
  if (type === 'OFPMBT_DSCP_REMARK') {
    const precLevel = body.u8();
    zeroPad(3);
    return { type, rate, burstSize, precLevel };
  }
  return { type, rate, burstSize, experimenter: body.u32(), data: body.rest() };
}

/** Reads bands until the (bounded) reader's end. */
export function decodeMeterBands(r: OfReader): MeterBand[] {
  const out: MeterBand[] = [];
  while (!r.atEnd) out.push(decodeMeterBand(r));
  return out;
}
