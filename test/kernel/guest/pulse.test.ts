/**
 * Pulse against the real kernel (runs inside the VM): a backend that stops listening is taken to
 * weight 0 in IPVS within one interval plus the check timeout, and climbs back when it returns.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { call, startGorb, type RunningGorb } from "./gorb-binary.ts";
import { ipvsadm } from "./ipvsadm.ts";

const BACKEND = "198.51.100.77";
const sh = (cmd: string) => Bun.spawnSync(["sh", "-c", cmd]);

let gorb: RunningGorb;
let listener: TCPSocketListener | undefined;
const listen = () => {
  listener = Bun.listen({ hostname: BACKEND, port: 8080, socket: { data() {}, open(s) { s.end(); } } });
};

beforeAll(async () => {
  ipvsadm(["-C"]);
  // The backend lives on a dummy interface inside the VM, so the checker's connects stay local.
  sh(`ip link add gorbpulse0 type dummy; ip addr add ${BACKEND}/32 dev gorbpulse0; ip link set gorbpulse0 up`);
  listen();
  gorb = await startGorb([], 4673);
});
afterAll(async () => {
  listener?.stop(true);
  await gorb?.stop();
  ipvsadm(["-C"]);
  sh("ip link del gorbpulse0");
});

function weight(): number | undefined {
  const line = ipvsadm(["-Sn"]).split("\n").find((l) => l.includes(`-r ${BACKEND}:8080`));
  const m = line ? / -w (\d+)/.exec(line) : null;
  return m ? Number(m[1]) : undefined;
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, withinMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < withinMs) {
    if (await ok()) return performance.now() - started;
    await Bun.sleep(50);
  }
  throw new Error(`${what}: not within ${withinMs} ms (weight ${weight()})`);
}

test("a backend that stops listening goes to weight 0, and climbs back when it returns", async () => {
  expect((await call(gorb.url, "PUT", "/service/web", { host: "192.0.2.77", port: 80 })).status).toBe(200);
  const put = await call(gorb.url, "PUT", "/service/web/b", {
    host: BACKEND,
    port: 8080,
    weight: 100,
    pulse: { type: "tcp", interval: "1s", timeout: "500ms" },
  });
  expect(put.status).toBe(200);
  expect(weight()).toBe(100);
  // First check within one interval: the backend reports up.
  const backendStatus = async () => JSON.parse((await call(gorb.url, "GET", "/service/web/b")).text).metrics.status as string;
  await waitFor("first check reports up", async () => (await backendStatus()) === "up", 5_000);

  listener!.stop(true);
  listener = undefined;
  // One interval + the timeout, plus slack for the emulated CPU.
  const downAfter = await waitFor("weight 0 after the backend stopped", () => weight() === 0, 1_000 + 500 + 2_500);
  console.log(`weight 0 after ${downAfter.toFixed(0)} ms`);
  expect(await backendStatus()).toBe("down");

  listen();
  await waitFor("weight back above 0", () => (weight() ?? 0) > 0, 5_000);
  const first = weight()!;
  await waitFor("weight climbing", () => (weight() ?? 0) > first, 5_000);
  expect(weight()!).toBeLessThanOrEqual(100);
});
