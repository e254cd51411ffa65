/** @module Starts the compiled dist/gorb inside the VM and waits until its API answers. */
import type { Subprocess } from "bun";

export interface RunningGorb {
  url: string;
  process: Subprocess;
  stop(signal?: NodeJS.Signals): Promise<number>;
  output(): string;
}

/**
 * Starts dist/gorb. Without `--state-dir` in `args` it keeps no state (`--no-state`): the default
 * /var/lib/gorb would carry one test file's services into the next.
 */
export async function startGorb(args: string[] = [], port = 4672): Promise<RunningGorb> {
  const state = args.some((a) => /^--?(state-dir|no-state)\b/.test(a)) ? [] : ["--no-state"];
  const proc = Bun.spawn(["/host/dist/gorb", "--ipvs", "kernel", "-i", "eth0", "-l", `127.0.0.1:${port}`, ...state, ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  let log = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) log += new TextDecoder().decode(chunk);
  };
  void drain(proc.stdout);
  void drain(proc.stderr);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`gorb exited ${proc.exitCode}: ${log}`);
    try {
      const r = await fetch(`${url}/service`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`gorb did not answer within 30 s: ${log}`);
    await Bun.sleep(100);
  }
  return {
    url,
    process: proc,
    output: () => log,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return await proc.exited;
    },
  };
}

export async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: r.status, text: await r.text() };
}
