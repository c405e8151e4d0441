/**
 * Typed errors of the priority-threshold computation (ARCHITECTURE.md "Principles"): a stable `code` callers and tests
 * branch on, and, for a bad CDF, the 1-based `line` of the offending text (0 when not about one line).
 */

/** Stable codes. */
export const THRESHOLD_ERROR_CODES = {
  /** The CDF has no points (only comments or blank lines), or no flow has a positive size. */
  CDF_EMPTY: 'empty flow-size distribution',
  /** A line is not `size probability` (two finite numbers). */
  CDF_PARSE: 'unparsable CDF line',
  /** Sizes or probabilities decrease from one point to the next. */
  CDF_NOT_MONOTONE: 'CDF is not monotone',
  /** A probability lies outside [0, 1]. */
  CDF_PROBABILITY_RANGE: 'probability outside [0, 1]',
  /** A flow size is negative. */
  CDF_NEGATIVE_SIZE: 'negative flow size',
  /** The last probability is not 1. */
  CDF_INCOMPLETE: 'CDF does not reach 1',
  /** The number of queues is not an integer in 1..8. */
  BAD_QUEUE_COUNT: 'queue count outside 1..8',
  /** The load is not a number in (0, 1). */
  BAD_LOAD: 'load outside (0, 1)',
} as const;

export type ThresholdErrorCode = keyof typeof THRESHOLD_ERROR_CODES;

/** A failure of the flow-size distribution or the threshold optimizer. */
export class ThresholdError extends Error {
  override readonly name = 'ThresholdError';
  constructor(
    readonly code: ThresholdErrorCode,
    message: string,
    readonly line = 0,
  ) {
    super(`${code}: ${message}${line > 0 ? ` (line ${line})` : ''}`);
  }
}
