import { describe, expect, it } from "bun:test";
import { abortText, CHECK_CANCELLED, CHECK_TIMEOUT, errorText, hostPort } from "../../../src/pulse/checks/common.ts";
import { normalizePulseSpec } from "../../../src/pulse/spec.ts";

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("checker helpers", () => {
  it("brackets IPv6 literals in host:port (GORB's IPv6 bug)", () => {
    expect(hostPort("::1", 80)).toBe("[::1]:80");
    expect(hostPort("2001:db8::5", 8443)).toBe("[2001:db8::5]:8443");
    expect(hostPort("10.0.0.1", 80)).toBe("10.0.0.1:80");
    expect(hostPort("backend.local", 80)).toBe("backend.local:80");
  });

  it("words errors by their code when the runtime's sentence adds nothing", () => {
    expect(errorText(withCode("Unable to connect. Is the computer able to access the url?", "ECONNREFUSED"))).toBe("ECONNREFUSED");
    expect(errorText(withCode("Failed to connect", "ECONNREFUSED"))).toBe("ECONNREFUSED");
    expect(errorText(withCode("recvmsg ECONNREFUSED", "ECONNREFUSED"))).toBe("ECONNREFUSED");
    expect(errorText(withCode("self signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT"))).toBe("self signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)");
    expect(errorText(new Error("plain"))).toBe("plain");
    expect(errorText("text")).toBe("text");
  });

  it("tells a timeout from a cancellation", () => {
    const spec = normalizePulseSpec({ interval: "10s", timeout: "1500ms" });
    const timedOut = new AbortController();
    timedOut.abort(CHECK_TIMEOUT);
    const cancelled = new AbortController();
    cancelled.abort(CHECK_CANCELLED);
    expect(abortText(timedOut.signal, spec)).toBe("timed out after 1.5s");
    expect(abortText(AbortSignal.abort(), spec)).toBe("cancelled");
    expect(abortText(cancelled.signal, spec)).toBe("cancelled");
  });
});
