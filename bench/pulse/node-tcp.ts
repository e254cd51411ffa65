/** @module A node:net TCP checker, only to compare its cost with the Bun.connect one (`--tcp node`). */
import { connect } from "node:net";
import type { Checker } from "../../src/pulse/types.ts";

export const checkTcpNode: Checker = (target, spec, signal) =>
  new Promise((resolve) => {
    const start = performance.now();
    const socket = connect({ host: spec.host ?? target.host, port: spec.port ?? target.port });
    const finish = (error?: string) => {
      signal.removeEventListener("abort", onAbort);
      socket.resetAndDestroy();
      resolve(error === undefined ? { ok: true, latencyMs: performance.now() - start } : { ok: false, latencyMs: performance.now() - start, error });
    };
    const onAbort = () => finish("timed out");
    signal.addEventListener("abort", onAbort);
    socket.once("connect", () => finish());
    socket.once("error", (err) => finish(err.message));
  });
