/**
 * @module The API benchmark as a function: requests/s and latency percentiles for PUT backend,
 * PATCH weight and GET service at several client counts, against any running gorb (MemoryIpvs on
 * the host, the kernel in a VM). The server must be empty of the services it creates.
 */

export type Scenario = "put-backend" | "patch-weight" | "get-service";

export interface ApiBenchOptions {
  /** e.g. "http://127.0.0.1:4672" */
  readonly baseUrl: string;
  readonly clients?: readonly number[];
  readonly scenarios?: readonly Scenario[];
  /** Measured time per scenario and client count. */
  readonly durationMs?: number;
  /** Unmeasured time before each measurement. */
  readonly warmupMs?: number;
  /** Services the load is spread over (changes to one service are serialized by design). */
  readonly services?: number;
  /** The VIP of the bench services. */
  readonly vip?: string;
  readonly log?: (line: string) => void;
}

export interface ApiBenchResult {
  readonly scenario: Scenario;
  readonly clients: number;
  readonly requests: number;
  readonly errors: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The first few error answers, for diagnosis. */
  readonly sampleErrors: readonly string[];
}

const SERVICE = (i: number) => `bench-${i}`;

export async function runApiBench(options: ApiBenchOptions): Promise<ApiBenchResult[]> {
  const base = options.baseUrl.replace(/\/$/, "");
  const clientsList = options.clients ?? [1, 16, 64];
  const scenarios = options.scenarios ?? ["put-backend", "patch-weight", "get-service"];
  const durationMs = options.durationMs ?? 3000;
  const warmupMs = options.warmupMs ?? 500;
  const services = options.services ?? 16;
  const vip = options.vip ?? "198.51.100.10";
  const log = options.log ?? (() => {});
  const results: ApiBenchResult[] = [];

  const call = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(base + path, body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const must = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, body);
    if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };

  const setUp = async () => {
    for (let s = 0; s < services; s++) {
      await must("PUT", `/service/${SERVICE(s)}`, { host: vip, port: 10000 + s });
      // 64 backends per service for PATCH and for a realistic GET.
      for (let b = 0; b < 64; b++) await must("PUT", `/service/${SERVICE(s)}/fixed-${b}`, { host: `10.${s}.0.${b + 1}`, port: 80, pulse: { type: "none" } });
    }
  };
  const tearDown = async () => {
    for (let s = 0; s < services; s++) await call("DELETE", `/service/${SERVICE(s)}`).then((r) => r.arrayBuffer());
  };

  for (const scenario of scenarios) {
    for (const clients of clientsList) {
      await tearDown();
      await setUp();
      let seq = 0;
      const request = (): Promise<Response> => {
        const n = seq++;
        const s = n % services;
        switch (scenario) {
          case "put-backend": {
            const k = Math.floor(n / services);
            return call("PUT", `/service/${SERVICE(s)}/b-${k}`, { host: `10.${s}.${1 + ((k >> 8) & 0xff)}.${k & 0xff}`, port: 80 + (k >> 16), pulse: { type: "none" } });
          }
          case "patch-weight":
            return call("PATCH", `/service/${SERVICE(s)}/fixed-${(n >> 4) & 63}`, { weight: 1 + (n % 200) });
          case "get-service":
            return call("GET", `/service/${SERVICE(s)}`);
        }
      };
      const result = await measure(scenario, clients, request, warmupMs, durationMs);
      results.push(result);
      log(
        `${scenario.padEnd(13)} clients=${String(clients).padStart(2)}  ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  max ${result.maxMs.toFixed(1)} ms  errors ${result.errors}`,
      );
    }
  }
  await tearDown();
  return results;
}

async function measure(scenario: Scenario, clients: number, request: () => Promise<Response>, warmupMs: number, durationMs: number): Promise<ApiBenchResult> {
  const latencies: number[] = [];
  const sampleErrors: string[] = [];
  let errors = 0;
  let recording = false;
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const t0 = performance.now();
      let ok = false;
      let detail = "";
      try {
        const res = await request();
        const text = await res.text();
        ok = res.status === 200;
        if (!ok) detail = `${res.status} ${text.slice(0, 200)}`;
      } catch (e) {
        detail = (e as Error).message;
      }
      if (!recording) continue;
      latencies.push(performance.now() - t0);
      if (!ok) {
        errors++;
        if (sampleErrors.length < 5) sampleErrors.push(detail);
      }
    }
  };
  const loops = Array.from({ length: clients }, loop);
  await Bun.sleep(warmupMs);
  recording = true;
  const started = performance.now();
  await Bun.sleep(durationMs);
  recording = false;
  const elapsed = performance.now() - started;
  stop = true;
  await Promise.all(loops);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return {
    scenario,
    clients,
    requests: latencies.length,
    errors,
    requestsPerSecond: (latencies.length / elapsed) * 1000,
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: latencies.at(-1) ?? 0,
    sampleErrors,
  };
}
