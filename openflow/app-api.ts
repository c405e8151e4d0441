/**
 * The types apps and tests program against: a connected switch ({@link SwitchHandle}), the events the
 * app host delivers ({@link AppEvents}) and an app ({@link App}). No behaviour lives here.
 */
import type {
  MessageOf,
  MultipartReplyBody,
  MultipartRequestBody,
  OfpMessage,
  OfpMessageType,
  Port,
} from './codec/index.js';
import type { Logger } from '../lib/log.js';

/** Omit that distributes over a union (keeps the `type` discriminant working). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A message to send: `xid` optional (the session assigns the next one when absent). */
export type OutMessage = DistributiveOmit<OfpMessage, 'xid'> & { readonly xid?: number };

/** Request message type → the reply type that completes it (OpenFlow 1.3.5 §7.3, §7.5). */
export interface ReplyTypes {
  OFPT_ECHO_REQUEST: 'OFPT_ECHO_REPLY';
  OFPT_FEATURES_REQUEST: 'OFPT_FEATURES_REPLY';
  OFPT_GET_CONFIG_REQUEST: 'OFPT_GET_CONFIG_REPLY';
  OFPT_MULTIPART_REQUEST: 'OFPT_MULTIPART_REPLY';
  OFPT_BARRIER_REQUEST: 'OFPT_BARRIER_REPLY';
  OFPT_QUEUE_GET_CONFIG_REQUEST: 'OFPT_QUEUE_GET_CONFIG_REPLY';
  OFPT_ROLE_REQUEST: 'OFPT_ROLE_REPLY';
  OFPT_GET_ASYNC_REQUEST: 'OFPT_GET_ASYNC_REPLY';
}

/** The reply to a request of type T (any message for types without a defined reply). */
export type ReplyOf<T extends OfpMessageType> = T extends keyof ReplyTypes ? MessageOf<ReplyTypes[T]> : OfpMessage;

/** Multipart reply body for a request body type. */
export type MultipartReplyOf<T extends MultipartRequestBody['mpType']> = Extract<MultipartReplyBody, { mpType: T }>;

export interface RequestOptions {
  /** Milliseconds to wait for the reply (default: the session's requestTimeoutMs). */
  readonly timeoutMs?: number;
}

/** Features learnt in the handshake (OFPT_FEATURES_REPLY, §7.3.1). */
export type SwitchFeatures = Omit<MessageOf<'OFPT_FEATURES_REPLY'>, 'type' | 'xid'>;

/**
 * One connected datapath (a session in MAIN state). All sends throw SessionClosedError once the
 * session is dead and OfpEncodeError for a message that cannot be encoded; requests reject with
 * SwitchError (the switch answered OFPT_ERROR), RequestTimeoutError or SessionClosedError.
 */
export interface SwitchHandle {
  readonly dpid: bigint;
  /** dpid as 16 hex digits. */
  readonly dpidHex: string;
  /** "address:port" of the switch's end of the connection. */
  readonly peer: string;
  readonly features: SwitchFeatures;
  /** Ports by number, kept current from PORT_DESC and OFPT_PORT_STATUS. */
  readonly ports: ReadonlyMap<number, Port>;
  readonly alive: boolean;
  /** Sends without waiting; returns the xid used. */
  send(msg: OutMessage): number;
  /** Sends and resolves with the reply of the same xid (multipart parts merged). */
  request<M extends OutMessage>(msg: M, opts?: RequestOptions): Promise<ReplyOf<M['type']>>;
  /** A multipart request; resolves with the merged reply body. */
  multipart<B extends MultipartRequestBody>(body: B, opts?: RequestOptions): Promise<MultipartReplyOf<B['mpType']>>;
  /** BARRIER_REQUEST → BARRIER_REPLY (§7.3.8). */
  barrier(opts?: RequestOptions): Promise<void>;
  /**
   * Sends `msgs` then a barrier; resolves when the barrier reply arrives with no OFPT_ERROR for any of
   * them, else rejects with the first SwitchError (the others are in `.errors` of the rejection's cause).
   */
  transact(msgs: readonly OutMessage[], opts?: RequestOptions): Promise<void>;
  /**
   * {@link transact} without a promise, for the flow-setup path: `done` is called once, never
   * synchronously, with nothing on success or the error transact would reject with. Optional: callers
   * fall back to `transact` where a handle does not have it (test fakes).
   */
  transactThen?(msgs: readonly OutMessage[], done: (err: Error | undefined) => void): void;
  /** Closes the connection (the switch will reconnect by itself). */
  close(reason: string): void;
}

/** Events delivered to apps. Each payload names the datapath it concerns. */
export interface AppEvents {
  switchUp: { readonly dpid: bigint; readonly features: SwitchFeatures; readonly ports: readonly Port[]; readonly sw: SwitchHandle };
  switchDown: { readonly dpid: bigint; readonly reason: string };
  packetIn: { readonly dpid: bigint; readonly msg: MessageOf<'OFPT_PACKET_IN'> };
  portStatus: { readonly dpid: bigint; readonly msg: MessageOf<'OFPT_PORT_STATUS'> };
  flowRemoved: { readonly dpid: bigint; readonly msg: MessageOf<'OFPT_FLOW_REMOVED'> };
  /** An OFPT_ERROR from a switch that no request of ours was waiting for. */
  error: {
    readonly dpid: bigint;
    readonly msg: MessageOf<'OFPT_ERROR'>;
    readonly errTypeName: string;
    readonly errCodeName: string;
  };
}

export type AppEventName = keyof AppEvents;

/** What a handler gets besides the event: the switches and a logger bound to the app. */
export interface AppContext {
  readonly log: Logger;
  switch(dpid: bigint): SwitchHandle | undefined;
  switches(): readonly SwitchHandle[];
}

/**
 * A handler may return messages (or a promise of them) to be sent, in order, to the event's datapath
 * (Faucet style: the handler computes, the host does the I/O).
 */
export type AppHandlerResult = void | readonly OutMessage[];
export type AppHandler<E extends AppEventName> = (
  event: AppEvents[E],
  ctx: AppContext,
) => AppHandlerResult | Promise<AppHandlerResult>;

export interface App {
  readonly name: string;
  readonly handlers: { readonly [E in AppEventName]?: AppHandler<E> };
  /**
   * Called once by the host when the app is registered, with the same context its handlers get: the
   * app's way to the switches outside an event (timers, topology events, agents' messages). The
   * context answers for the switches connected at the time of each call.
   */
  readonly attach?: (ctx: AppContext) => void;
}

/** Resource counts (leak test, /health later). */
export interface ControllerStats {
  /** Datapaths in MAIN state (the dpid map). */
  readonly switches: number;
  /** Sessions not yet dead (including those still in the handshake). */
  readonly sessions: number;
  /** Sockets accepted and not yet closed. */
  readonly sockets: number;
  /** Timers armed through the controller's clock and still pending. */
  readonly timers: number;
  /** Listeners the controller attached to sockets that are still open. */
  readonly listeners: number;
  /** Requests awaiting a reply, over all sessions. */
  readonly pendingRequests: number;
  /** Registered apps. */
  readonly apps: number;
  /** Connections refused because they claimed the dpid of a live session (since start). */
  readonly refusedDuplicates: number;
}
