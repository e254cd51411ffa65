/**
 * @module systemd's notification protocol (sd_notify) for deploy/gorb.service's Type=notify and
 * WatchdogSec=: ready, reloading, stopping, status, watchdog pings. Every function is a no-op
 * outside systemd (no $NOTIFY_SOCKET), so gorb calls them unconditionally.
 */
import { NotifyError, monotonicMicros, sendNotify } from "../../ffi/sd-notify.ts";

export { NotifyError };

type Env = Readonly<Record<string, string | undefined>>;

/** A STATUS= value on one line: a newline would start another assignment. */
function statusLine(status: string | undefined): string {
  return status === undefined ? "" : `\nSTATUS=${status.replace(/[\r\n]+/g, " ")}`;
}

/**
 * Sends `state` (newline-separated assignments, e.g. "READY=1\nSTATUS=…") to $NOTIFY_SOCKET.
 * Returns true when sent, false when $NOTIFY_SOCKET is unset (not under systemd, or a unit that is
 * not Type=notify). Throws NotifyError when the socket is set but the send fails: a Type=notify
 * unit whose READY=1 never arrives is killed at TimeoutStartSec=, so the caller should log it.
 */
export function notify(state: string, env: Env = process.env): boolean {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return false;
  sendNotify(socket, state);
  return true;
}

/**
 * Startup (or a reload) is complete: the API listens and the kernel table is reconciled.
 * systemd then starts units ordered after gorb and ends `systemctl start|reload`. Call it after
 * the listener is bound, never before: that is the whole point of Type=notify.
 */
export function notifyReady(status?: string): boolean {
  return notify(`READY=1${statusLine(status)}`);
}

/**
 * A reload (SIGHUP, `systemctl reload gorb`) has begun; call `notifyReady()` when it is done.
 * MONOTONIC_USEC lets systemd ≥ 253 tell this reload's notification from an older one.
 */
export function notifyReloading(status?: string): boolean {
  if (!process.env.NOTIFY_SOCKET) return false;
  return notify(`RELOADING=1\nMONOTONIC_USEC=${monotonicMicros()}${statusLine(status)}`);
}

/** Shutdown has begun (SIGTERM received): `systemctl status` shows "deactivating" meanwhile. */
export function notifyStopping(status?: string): boolean {
  return notify(`STOPPING=1${statusLine(status)}`);
}

/** A one-line status for `systemctl status gorb` ("12 services, 40 backends"). */
export function notifyStatus(status: string): boolean {
  return notify(statusLine(status).slice(1));
}

/**
 * The watchdog ping interval: half of $WATCHDOG_USEC (systemd's advice), in whole ms; undefined
 * when systemd watches no one, or watches another process ($WATCHDOG_PID set and not `pid`:
 * the variables were inherited from a parent). Pure.
 */
export function watchdogIntervalMs(env: Env, pid: number): number | undefined {
  const usec = env.WATCHDOG_USEC;
  if (!usec || !/^\d+$/.test(usec) || Number(usec) === 0) return undefined;
  const watched = env.WATCHDOG_PID;
  if (watched !== undefined && watched !== "" && Number(watched) !== pid) return undefined;
  return Math.max(1, Math.floor(Number(usec) / 2000));
}

export interface Watchdog {
  readonly intervalMs: number;
  /** Stops pinging (at shutdown, after `notifyStopping()`). */
  stop(): void;
}

export interface WatchdogOptions {
  /** A ping that failed; by default written to stderr, once per distinct message. */
  onError?: (error: Error) => void;
}

/**
 * Pings WATCHDOG=1 now and every `watchdogIntervalMs`, from the event loop: a loop stuck longer
 * than WatchdogSec= gets gorb restarted, which is the point. The timer does not keep the process
 * alive. Returns undefined (and does nothing) when no watchdog is asked for us.
 */
export function startWatchdog(options: WatchdogOptions = {}): Watchdog | undefined {
  const intervalMs = watchdogIntervalMs(process.env, process.pid);
  if (intervalMs === undefined || !process.env.NOTIFY_SOCKET) return undefined;
  let lastMessage = "";
  const onError =
    options.onError ??
    ((error: Error) => {
      if (error.message !== lastMessage) console.error(`gorb: systemd watchdog: ${error.message}`);
      lastMessage = error.message;
    });
  const ping = () => {
    try {
      notify("WATCHDOG=1");
    } catch (e) {
      onError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  ping();
  const timer = setInterval(ping, intervalMs);
  timer.unref();
  return { intervalMs, stop: () => clearInterval(timer) };
}
