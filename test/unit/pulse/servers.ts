/** @module Loopback servers for the checker tests (port 0, IPv4 and IPv6), and a poll helper. */
import type { TCPSocketListener } from "bun";

/** A TCP listener that accepts and holds connections; `accepted` counts them. */
export function tcpServer(hostname: "127.0.0.1" | "::1") {
  const state = { accepted: 0 };
  const listener: TCPSocketListener<undefined> = Bun.listen({
    hostname,
    port: 0,
    socket: { open() { state.accepted++; }, data() {}, close() {}, error() {} },
  });
  return { port: listener.port, state, stop: () => listener.stop(true) };
}

/** A port nothing listens on (bound then released). */
export function closedPort(hostname: "127.0.0.1" | "::1" = "127.0.0.1"): number {
  const { port, stop } = tcpServer(hostname);
  stop();
  return port;
}

/** Polls `condition` until true or `ms` elapse. */
export async function waitFor(condition: () => boolean, ms = 5_000): Promise<boolean> {
  const until = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > until) return false;
    await Bun.sleep(10);
  }
  return true;
}
