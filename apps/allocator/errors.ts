/**
 * Typed errors of the allocator (ARCHITECTURE.md "Principles"): every failure carries a stable `code` callers can branch on,
 * and — when the problem is a specific flow or link — the offending `subject` id.
 */

/** Stable error codes of the allocator, the problem validator and the simulator. */
export type AllocatorErrorCode =
  | 'ALLOC_BAD_JSON'
  | 'ALLOC_BAD_FIELD'
  | 'ALLOC_DUPLICATE_ID'
  | 'ALLOC_UNKNOWN_LINK'
  | 'ALLOC_EMPTY_PATH'
  | 'ALLOC_PATH_TOO_LONG'
  | 'ALLOC_BAD_CAPACITY'
  | 'ALLOC_BAD_WEIGHT'
  | 'ALLOC_UNKNOWN_FLOW'
  | 'ALLOC_BAD_OPTION'
  | 'ALLOC_WORKER_FAILED'
  | 'SIM_STALLED';

/** An allocator failure: `code` is stable, `subject` names the flow or link at fault (if any). */
export class AllocatorError extends Error {
  override readonly name = 'AllocatorError';
  constructor(
    readonly code: AllocatorErrorCode,
    message: string,
    readonly subject?: string,
  ) {
    super(message);
  }
}

/** Builds the error for one flow (`kind` = 'flow') or link (`kind` = 'link'); the message names it. */
export function subjectError(
  code: AllocatorErrorCode,
  kind: 'flow' | 'link' | 'transfer' | 'division' | 'tenant',
  id: string,
  what: string,
): AllocatorError {
  return new AllocatorError(code, `${kind} ${JSON.stringify(id)}: ${what}`, id);
}
