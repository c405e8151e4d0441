/**
 * Typed codec errors. Every decode failure is an {@link OfpDecodeError} carrying a stable string
 * `code` (callers and tests branch on it) and the OpenFlow error type/code the controller would
 * answer with (OpenFlow 1.3.5 §7.4.4 "Error Message").
 */

/** OFPET_* error types (OpenFlow 1.3.5 §7.4.4, enum ofp_error_type). */
export const OFPET = {
  HELLO_FAILED: 0,
  BAD_REQUEST: 1,
  BAD_ACTION: 2,
  BAD_INSTRUCTION: 3,
  BAD_MATCH: 4,
  FLOW_MOD_FAILED: 5,
  GROUP_MOD_FAILED: 6,
  PORT_MOD_FAILED: 7,
  TABLE_MOD_FAILED: 8,
  QUEUE_OP_FAILED: 9,
  SWITCH_CONFIG_FAILED: 10,
  ROLE_REQUEST_FAILED: 11,
  METER_MOD_FAILED: 12,
  TABLE_FEATURES_FAILED: 13,
  EXPERIMENTER: 0xffff,
} as const;

/** Stable codes of decode failures, each with the (type, code) an OFPT_ERROR reply would carry. */
export const DECODE_ERRORS = {
  /** Header length < 8, or a length field that disagrees with the bytes present. */
  OFP_ERR_BAD_LEN: { errType: OFPET.BAD_REQUEST, errCode: 6 /* OFPBRC_BAD_LEN */ },
  /** Header version is not 0x04 on a non-HELLO message. */
  OFP_ERR_BAD_VERSION: { errType: OFPET.BAD_REQUEST, errCode: 0 /* OFPBRC_BAD_VERSION */ },
  /** Unknown OFPT_* message type. */
  OFP_ERR_BAD_TYPE: { errType: OFPET.BAD_REQUEST, errCode: 1 /* OFPBRC_BAD_TYPE */ },
  /** Unknown or malformed multipart type/body. */
  OFP_ERR_BAD_MULTIPART: { errType: OFPET.BAD_REQUEST, errCode: 2 /* OFPBRC_BAD_MULTIPART */ },
  /** A HELLO that cannot be understood (bad element). */
  OFP_ERR_HELLO_INCOMPATIBLE: { errType: OFPET.HELLO_FAILED, errCode: 0 /* OFPHFC_INCOMPATIBLE */ },
  /** Match: ofp_match type is not OFPMT_OXM. */
  OFP_ERR_BAD_MATCH_TYPE: { errType: OFPET.BAD_MATCH, errCode: 0 /* OFPBMC_BAD_TYPE */ },
  /** Match: length inconsistent (ofp_match length, OXM length vs field). */
  OFP_ERR_BAD_MATCH_LEN: { errType: OFPET.BAD_MATCH, errCode: 1 /* OFPBMC_BAD_LEN */ },
  /** Match: unknown OXM field. */
  OFP_ERR_BAD_FIELD: { errType: OFPET.BAD_MATCH, errCode: 6 /* OFPBMC_BAD_FIELD */ },
  /** Match: a field repeated. */
  OFP_ERR_DUP_FIELD: { errType: OFPET.BAD_MATCH, errCode: 10 /* OFPBMC_DUP_FIELD */ },
  /** Action: unknown type. */
  OFP_ERR_BAD_ACTION_TYPE: { errType: OFPET.BAD_ACTION, errCode: 0 /* OFPBAC_BAD_TYPE */ },
  /** Action: length wrong for its type or not a multiple of 8. */
  OFP_ERR_BAD_ACTION_LEN: { errType: OFPET.BAD_ACTION, errCode: 1 /* OFPBAC_BAD_LEN */ },
  /** Instruction: unknown type. */
  OFP_ERR_BAD_INSTRUCTION_TYPE: { errType: OFPET.BAD_INSTRUCTION, errCode: 0 /* OFPBIC_UNKNOWN_INST */ },
  /** Instruction: length wrong. */
  OFP_ERR_BAD_INSTRUCTION_LEN: { errType: OFPET.BAD_INSTRUCTION, errCode: 7 /* OFPBIC_BAD_LEN */ },
  /** Meter band: unknown type or bad length. */
  OFP_ERR_BAD_BAND: { errType: OFPET.METER_MOD_FAILED, errCode: 8 /* OFPMMFC_BAD_BAND */ },
  /** Group bucket malformed. */
  OFP_ERR_BAD_BUCKET: { errType: OFPET.GROUP_MOD_FAILED, errCode: 12 /* OFPGMFC_BAD_BUCKET */ },
  /** Table-feature property malformed. */
  OFP_ERR_BAD_TABLE_FEATURE: { errType: OFPET.TABLE_FEATURES_FAILED, errCode: 4 /* OFPTFFC_BAD_ARGUMENT */ },
  /** A frame longer than the configured maximum (the session's hard limit). */
  OFP_ERR_FRAME_TOO_LONG: { errType: OFPET.BAD_REQUEST, errCode: 6 /* OFPBRC_BAD_LEN */ },
  /** Queue property (QUEUE_GET_CONFIG_REPLY) of unknown type or bad length. */
  OFP_ERR_BAD_QUEUE_PROP: { errType: OFPET.QUEUE_OP_FAILED, errCode: 1 /* OFPQOFC_BAD_QUEUE */ },
  /** Padding bytes that must be zero are not, or lengths not aligned as required. */
  OFP_ERR_BAD_PADDING: { errType: OFPET.BAD_REQUEST, errCode: 6 /* OFPBRC_BAD_LEN */ },
} as const;

export type DecodeErrorCode = keyof typeof DECODE_ERRORS;

/**
 * A message (or part of one) that could not be decoded.
 * `offset` is the byte offset into the frame where decoding stopped.
 */
export class OfpDecodeError extends Error {
  readonly code: DecodeErrorCode;
  /** OFPET_* type to answer with. */
  readonly errType: number;
  /** Code within `errType` to answer with. */
  readonly errCode: number;
  readonly offset: number;

  constructor(code: DecodeErrorCode, message: string, offset = 0) {
    super(`${code}: ${message} (at byte ${offset})`);
    this.name = 'OfpDecodeError';
    this.code = code;
    this.errType = DECODE_ERRORS[code].errType;
    this.errCode = DECODE_ERRORS[code].errCode;
    this.offset = offset;
  }
}

/** An object that cannot be encoded (a programming error in the caller: bad field value, range). */
export class OfpEncodeError extends Error {
  readonly code = 'OFP_ENCODE_INVALID' as const;
  constructor(message: string) {
    super(`OFP_ENCODE_INVALID: ${message}`);
    this.name = 'OfpEncodeError';
  }
}

/** Result of a total decoder: never throws. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: OfpDecodeError };
