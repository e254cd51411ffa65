/**
 * @module What gorb's process does, in one run, for test/unit/deploy/sandbox.test.ts to run
 * under the unit's seccomp filter: JIT, bun:ffi + libnl (rtnetlink and generic netlink),
 * SQLite in WAL mode, an HTTP server and client, TCP and UDP sockets (health checks, and the
 * tcp check's prober: io_uring where the kernel has it),
 * sd_notify and timers. Prints one JSON line of facts, then "probe ok".
 */
import { numberOfDFGCompiles } from "bun:jsc";
import { Database } from "bun:sqlite";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenlSocket } from "../../../ffi/netlink-socket.ts";
import { openKernelInterfaces } from "../../../src/net/kernel-interfaces.ts";
import { notifyReady } from "../../../src/config/systemd.ts";
import { tcpProber } from "../../../src/pulse/checks/tcp-prober.ts";
import { normalizePulseSpec } from "../../../src/pulse/spec.ts";
import { DatagramListener } from "../../support/unix-datagram.ts";

const facts: Record<string, unknown> = {};

// JIT: a hot function reaches the DFG tier (JSC answers 1000000 when the JIT is off).
function hot(x: number): number {
  return x * 2 + 1;
}
let sum = 0;
for (let i = 0; i < 2_000_000; i++) sum += hot(i);
facts.dfgCompiles = numberOfDFGCompiles(hot);

// bun:ffi + libnl: NETLINK_ROUTE (VIPs) and generic netlink (IPVS, which this host may lack).
const interfaces = openKernelInterfaces();
facts.loAddresses = (await interfaces.list("lo")).length;
interfaces.close();
try {
  GenlSocket.open("IPVS").close();
  facts.ipvs = "open";
} catch (e) {
  facts.ipvs = (e as Error).name;
}

// The state store: SQLite with WAL in a private directory.
const dir = mkdtempSync(join(tmpdir(), "gorb-probe-"));
const db = new Database(join(dir, "state.db"));
facts.journal = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode = WAL").get()?.journal_mode;
db.run("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)");
db.run("INSERT INTO t VALUES ('a', 'b')");
facts.sqlite = db.query<{ v: string }, []>("SELECT v FROM t").get()?.v;
db.close();

// The API: an HTTP server, and fetch (Consul, http health checks).
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("pong") });
facts.http = await (await fetch(`http://127.0.0.1:${server.port}/`)).text();

// tcp health check: connect.
facts.tcp = await new Promise<string>((resolve, reject) => {
  Bun.connect({ hostname: "127.0.0.1", port: server.port!, socket: { open: (s) => (s.end(), resolve("connected")), data() {}, error: (_s, e) => reject(e) } }).catch(reject);
});
// tcp health check through the shared prober: io_uring (io_uring_setup, io_uring_enter, mmap) where allowed.
const prober = tcpProber();
facts.tcpProber = prober?.name ?? null;
if (prober !== null) {
  const spec = normalizePulseSpec({ type: "tcp", interval: "1s" });
  facts.tcpProbe = (await prober.probe(prober.target("127.0.0.1", server.port!), spec, AbortSignal.timeout(2000))).ok;
}
await server.stop(true);

// dns health check: UDP to a local responder.
facts.udp = await new Promise<string>((resolve) => {
  const responder = createSocket("udp4");
  responder.on("message", (msg, rinfo) => responder.send(msg, rinfo.port, rinfo.address));
  responder.bind(0, "127.0.0.1", () => {
    const client = createSocket("udp4");
    client.on("message", (msg) => (client.close(), responder.close(), resolve(msg.toString())));
    client.send("ping", responder.address().port, "127.0.0.1");
  });
});

// sd_notify (the libc path: in-process, process.env does not reach libsystemd).
const listener = DatagramListener.bind(join(dir, "notify.sock"));
process.env.NOTIFY_SOCKET = listener.name;
notifyReady();
facts.notify = await listener.receive();
listener.close();

await Bun.sleep(5);
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(facts));
console.log(sum > 0 ? "probe ok" : "probe broken");
