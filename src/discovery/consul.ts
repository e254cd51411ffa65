/**
 * @module Consul registration (GORB's `-c`): each service with an address is registered in the
 * local Consul agent as `{Name: <service ID>, Address: <VIP>, Port: <port>}` when it is created
 * or changed, and deregistered when it is deleted; gorb registers itself as "gorb" at start. The
 * agent's HTTP API is spoken by the `consul` npm client (PUT, as Consul ≥ 1.0 requires).
 *
 * Beyond GORB (which only logged a failure and forgot it): a refused or timed-out call is
 * retried, with the delay doubling from 1 s up to 1 min, until it succeeds or a newer change of
 * the same service replaces it; calls for one service run in order. At start every restored
 * service is registered again (idempotent: Consul keys a registration without ID by its name),
 * so an agent that lost its state while gorb was down is repaired.
 */
import Consul from "consul";
import type { Core, CoreEvent } from "../core/core.ts";
import { KeyedLock } from "../core/lock.ts";
import type { DesiredService } from "../core/model.ts";
import { isFwmarkKey } from "../ipvs/types.ts";

/** What is registered for one name; null: deregistered. */
export interface Registration {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

/** The two agent calls gorb makes. */
export interface ServiceRegistry {
  register(registration: Registration): Promise<void>;
  deregister(name: string): Promise<void>;
}

const TIMEOUT_MS = 5_000;

/** A registry over the Consul agent at `url` (its path, as in GORB, is ignored). */
export function consulRegistry(url: string, timeoutMs = TIMEOUT_MS): ServiceRegistry {
  const parsed = new URL(url);
  const secure = parsed.protocol === "https:";
  const port = parsed.port === "" ? (secure ? 443 : 80) : Number(parsed.port);
  // An IPv6 host keeps its brackets: the client puts it into the URL as it is.
  const client = new Consul({ host: parsed.hostname, port, secure });
  // `timeout` is a per-call option of the client that its type declarations leave out.
  return {
    async register(r) {
      const options = { name: r.name, address: r.address, port: r.port, timeout: timeoutMs };
      await client.agent.service.register(options);
    },
    async deregister(name) {
      const options = { id: name, timeout: timeoutMs };
      await client.agent.service.deregister(options);
    },
  };
}

export interface ConsulSyncOptions {
  readonly registry: ServiceRegistry;
  readonly log?: (line: string) => void;
  /** First retry delay (default 1 s); doubles up to `maxRetryMs` (default 60 s). */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
}

type Wanted = Registration | null;

/** Keeps the agent's registrations in step with core's services. */
export class ConsulSync {
  private readonly registry: ServiceRegistry;
  private readonly log: (line: string) => void;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  /** The latest wanted state per name; calls for one name run in order under its lock. */
  private readonly wanted = new Map<string, Wanted>();
  private readonly lock = new KeyedLock();
  private readonly inflight = new Set<Promise<void>>();
  /** Names gorb registered (or is registering): only these are deregistered. */
  private readonly known = new Set<string>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(options: ConsulSyncOptions) {
    this.registry = options.registry;
    this.log = options.log ?? ((line) => console.log(line));
    this.retryMs = options.retryMs ?? 1_000;
    this.maxRetryMs = options.maxRetryMs ?? 60_000;
  }

  /** Registers gorb itself and every current service, then follows core's events. */
  start(core: Core, self?: Registration): void {
    if (self) this.want(self.name, self);
    for (const service of core.snapshot.services.values()) this.want(service.id, registrationOf(service));
    this.unsubscribe = core.events.on((event) => this.onEvent(core, event));
  }

  /** Stops following events and retrying; waits for calls in flight. Registrations stay (as GORB's). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.settled();
  }

  /** Waits until every call queued so far has been tried once (tests). */
  async settled(): Promise<void> {
    await Promise.all(this.inflight);
  }

  private onEvent(core: Core, event: CoreEvent): void {
    if (event.type === "service-created" || event.type === "service-updated") {
      const service = core.snapshot.services.get(event.service);
      if (service) this.want(service.id, registrationOf(service));
    } else if (event.type === "service-deleted" && this.known.has(event.service)) {
      this.want(event.service, null);
    }
  }

  /** Records what `name` should be and queues the call (after the calls already queued for it). */
  private want(name: string, registration: Wanted | undefined): void {
    if (registration === undefined || this.stopped) return; // fwmark: nothing to register
    if (registration === null) this.known.delete(name);
    else this.known.add(name);
    this.wanted.set(name, registration);
    this.enqueue(name, this.retryMs);
  }

  private enqueue(name: string, nextDelayMs: number): void {
    const call = this.lock.run(name, () => this.sync(name, nextDelayMs));
    this.inflight.add(call);
    void call.finally(() => this.inflight.delete(call));
  }

  /** Makes the agent match the latest wanted state of `name`; on failure retries later. */
  private async sync(name: string, nextDelayMs: number): Promise<void> {
    const wanted = this.wanted.get(name);
    if (wanted === undefined || this.stopped) return; // done by an earlier call
    try {
      if (wanted === null) await this.registry.deregister(name).catch((e: unknown) => {
        if (httpStatus(e) !== 404) throw e; // the agent has no such service: the goal is reached
      });
      else await this.registry.register(wanted);
      if (this.wanted.get(name) === wanted) this.wanted.delete(name);
    } catch (e) {
      const what = wanted === null ? `deregister [${name}] from` : `register [${name}] (${wanted.address}:${wanted.port}) in`;
      this.log(`gorb: WARNING: could not ${what} Consul: ${errorText(e)}; retrying in ${(nextDelayMs / 1000).toFixed(nextDelayMs < 10_000 ? 1 : 0)} s`);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.stopped && this.wanted.get(name) === wanted) this.enqueue(name, Math.min(nextDelayMs * 2, this.maxRetryMs));
      }, nextDelayMs);
      this.timers.add(timer);
    }
  }
}

/** GORB's registration of a service; undefined for a fwmark service (no address or port). */
export function registrationOf(service: DesiredService): Registration | undefined {
  const key = service.service.key;
  if (isFwmarkKey(key)) return undefined;
  return { name: service.id, address: key.address, port: key.port };
}

/** The HTTP status of a `consul` client error (undefined: no answer, e.g. the agent is unreachable). */
export function httpStatus(e: unknown): number | undefined {
  return (e as { response?: { statusCode?: number } } | undefined)?.response?.statusCode;
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const status = httpStatus(e);
  return status ? `${e.message} (HTTP ${status})` : e.message;
}
