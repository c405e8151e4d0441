/**
 * The app host: apps subscribe to typed events ({@link AppEvents}) and act through a context that
 * reaches the connected switches (Ryu's `set_ev_cls` without the global registry: apps are registered on
 * one host object that the controller owns and wires explicitly).
 *
 * Delivery is in registration order. A handler's exception or rejected promise is logged with the app
 * name, the event and the dpid, and contained: the other apps still get the event. A handler may return
 * messages; they are sent, in order, to the event's datapath (if it is still connected).
 */
import type { App, AppContext, AppEventName, AppEvents, AppHandler, AppHandlerResult, OutMessage, SwitchHandle } from './app-api.js';
import { dpidHex, type Logger } from '../lib/log.js';

/** How the host reaches the switches (the controller's dpid map). */
export interface SwitchDirectory {
  get(dpid: bigint): SwitchHandle | undefined;
  values(): Iterable<SwitchHandle>;
}

export class AppHost {
  private apps: readonly { readonly app: App; readonly ctx: AppContext }[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly switches: SwitchDirectory,
    private readonly log: Logger,
  ) {}

  /** Number of registered apps. */
  get size(): number {
    return this.apps.length;
  }

  /** Names of the registered apps, in delivery order. */
  get names(): readonly string[] {
    return this.apps.map((a) => a.app.name);
  }

  /**
   * Registers an app; returns a function that unregisters it.
   * @throws Error if an app with the same name is registered already
   */
  register(app: App): () => void {
    if (this.apps.some((a) => a.app.name === app.name)) throw new Error(`app "${app.name}" is already registered`);
    const entry = { app, ctx: this.contextFor(app) };
    this.apps = [...this.apps, entry];
    app.attach?.(entry.ctx);
    return () => {
      this.apps = this.apps.filter((e) => e !== entry);
    };
  }

  /** Delivers `event` to every app that handles it. Never throws. */
  dispatch<E extends AppEventName>(name: E, event: AppEvents[E]): void {
    // registration replaces the array (copy on write), so this loop never sees it change under it
    for (const { app, ctx } of this.apps) {
      const handler = app.handlers[name] as AppHandler<E> | undefined;
      if (!handler) continue;
      let result: AppHandlerResult | Promise<AppHandlerResult>;
      try {
        result = handler(event, ctx);
      } catch (err) {
        this.failed(app, name, event, err);
        continue;
      }
      if (isPromise(result)) this.track(app, name, event, result);
      else this.emit(app, name, event, result);
    }
  }

  /** Resolves once every asynchronous handler started so far has finished (tests, shutdown). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private track<E extends AppEventName>(app: App, name: E, event: AppEvents[E], p: Promise<AppHandlerResult>): void {
    this.inFlight++;
    p.then(
      (msgs) => this.emit(app, name, event, msgs),
      (err: unknown) => this.failed(app, name, event, err),
    ).finally(() => {
      if (--this.inFlight > 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    });
  }

  /** Sends what a handler returned to the event's datapath. */
  private emit<E extends AppEventName>(app: App, name: E, event: AppEvents[E], msgs: AppHandlerResult): void {
    if (!msgs || msgs.length === 0) return;
    const sw = this.switches.get(event.dpid);
    if (!sw || !sw.alive) {
      this.log.debug({ event: 'app_output_dropped', app: app.name, on: name, dpid: dpidHex(event.dpid) }, 'switch gone');
      return;
    }
    try {
      for (const m of msgs as readonly OutMessage[]) sw.send(m);
    } catch (err) {
      this.failed(app, name, event, err);
    }
  }

  private failed<E extends AppEventName>(app: App, name: E, event: AppEvents[E], err: unknown): void {
    this.log.error(
      { event: 'app_failed', app: app.name, on: name, dpid: dpidHex(event.dpid), err },
      `app "${app.name}" failed handling ${name}`,
    );
  }

  private contextFor(app: App): AppContext {
    const switches = this.switches;
    return {
      log: this.log.child({ app: app.name }),
      switch: (dpid) => switches.get(dpid),
      switches: () => [...switches.values()],
    };
  }
}

function isPromise<T>(x: unknown): x is Promise<T> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}
