/**
 * @module The `dns` check for UDP services: query `args.name` over UDP and expect an answer. A
 * connected socket per check, so a closed port is reported at once (ICMP → ECONNREFUSED).
 */
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { DNS_RECORD_TYPES } from "../spec-args.ts";
import type { PulseSpec } from "../spec.ts";
import type { CheckResult, CheckTarget } from "../types.ts";
import { abortText, checkHost, checkPort, errorText, failure, hostPort, success } from "./common.ts";
import { encodeQuery, judgeResponse } from "./dns-message.ts";

/** Up when the server answers NOERROR with at least one record. Never throws. */
export function checkDns(target: CheckTarget, spec: PulseSpec, signal: AbortSignal): Promise<CheckResult> {
  const start = performance.now();
  if (spec.dns === null) return Promise.resolve(failure(start, "dns check needs args.name"));
  if (signal.aborted) return Promise.resolve(failure(start, abortText(signal, spec)));
  const host = checkHost(target, spec);
  const port = checkPort(target, spec);
  const { name, record } = spec.dns;
  const id = (Math.random() * 0x10000) | 0;
  const query = encodeQuery(id, name, DNS_RECORD_TYPES[record]);
  const where = `${name}/${record} @${hostPort(host, port)}`;

  return new Promise<CheckResult>((resolve) => {
    const socket = createSocket(isIPv6(host) ? "udp6" : "udp4");
    let done = false;
    const finish = (error: string | null) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      socket.close();
      resolve(error === null ? success(start) : failure(start, error));
    };
    const onAbort = () => finish(abortText(signal, spec));
    signal.addEventListener("abort", onAbort);
    socket.on("error", (err) => finish(`${where}: ${errorText(err)}`));
    socket.on("message", (message) => {
      const verdict = judgeResponse(message, id);
      if (verdict !== "ignore") finish(verdict === null ? null : `${where}: ${verdict}`);
    });
    socket.connect(port, host, () => {
      if (!done) socket.send(query);
    });
  });
}
