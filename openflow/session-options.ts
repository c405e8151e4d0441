/**
 * Types and defaults of a switch session (see session.ts): its transport, tunables, owner callbacks.
 */
import type { MessageOf } from './codec/index.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { Session } from './session.js';

export type SessionState = 'HELLO_WAIT' | 'FEATURES_WAIT' | 'CONFIGURING' | 'MAIN' | 'DEAD';

/** What a session needs of its transport; `net.Socket` satisfies it, tests use a fake. */
export interface SessionSocket {
  write(chunk: Buffer): boolean;
  end(): unknown;
  destroy(): unknown;
  setNoDelay?(noDelay?: boolean): unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly destroyed?: boolean;
}

/** Tunables; durations in ms, sizes in bytes. */
export interface SessionOptions {
  /** SET_CONFIG miss_send_len (default OFPCML_NO_BUFFER = 0xffff, whole packets). */
  readonly missSendLen?: number;
  /** Period of our ECHO_REQUESTs once in MAIN (default 5000). */
  readonly echoIntervalMs?: number;
  /** Unanswered ECHO_REQUESTs after which the peer is declared dead (default 3). */
  readonly echoMaxUnanswered?: number;
  /** HELLO → MAIN must complete within this (default 10000). */
  readonly handshakeTimeoutMs?: number;
  /** Default timeout of request() (default 10000). */
  readonly requestTimeoutMs?: number;
  /** Hard limit of bytes held back while the socket is not draining (default 16 MiB). */
  readonly maxQueuedBytes?: number;
  /** Frames longer than this are malformed (default 65535, the u16 length limit). */
  readonly maxFrameBytes?: number;
  /** After we close, wait this long for the peer before destroying the socket (default 1000). */
  readonly lingerMs?: number;
  /** Install the table-miss → controller entry during setup (default true). */
  readonly installTableMiss?: boolean;
  /** Async messages held while CONFIGURING, delivered after 'up' (default 1024; more are dropped). */
  readonly maxEarlyMessages?: number;
  /**
   * Coalesce writes per event-loop turn (default false here; the controller turns it on): messages sent during one turn go to the socket as
   * one buffer when the turn ends (setImmediate: after every socket read of this loop iteration), and the barriers of `transact` calls in one turn
   * share one BARRIER_REQUEST written after all of them (OpenFlow 1.3.5 §6.2: a barrier reply covers every
   * message sent before it). false: every message is one write, every transact its own barrier.
   */
  readonly batchWrites?: boolean;
}

/** Messages a switch sends on its own (§7.4) that the session hands to its owner. */
export type AsyncMessage = MessageOf<'OFPT_PACKET_IN' | 'OFPT_FLOW_REMOVED' | 'OFPT_PORT_STATUS' | 'OFPT_ERROR' | 'OFPT_EXPERIMENTER'>;

/** The owner's callbacks (the controller). Exceptions thrown by them are logged, not propagated. */
export interface SessionHooks {
  /**
   * Called once FEATURES_REPLY names the datapath, before any configuration is sent: return a reason to
   * refuse the connection (answered OFPET_BAD_REQUEST/OFPBRC_EPERM, then closed), undefined to go on.
   * Absent: every datapath is admitted.
   */
  admit?(session: Session, dpid: bigint): string | undefined;
  up(session: Session): void;
  message(session: Session, msg: AsyncMessage): void;
  closed(session: Session, reason: string, wasUp: boolean): void;
}

export interface SessionDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly hooks: SessionHooks;
}

/** Defaults of every SessionOptions field. */
export const SESSION_DEFAULTS: Required<SessionOptions> = {
  missSendLen: 0xffff,
  echoIntervalMs: 5000,
  echoMaxUnanswered: 3,
  handshakeTimeoutMs: 10000,
  requestTimeoutMs: 10000,
  maxQueuedBytes: 16 * 1024 * 1024,
  maxFrameBytes: 65535,
  lingerMs: 1000,
  installTableMiss: true,
  maxEarlyMessages: 1024,
  batchWrites: false,
};

