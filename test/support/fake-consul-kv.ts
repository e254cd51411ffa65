/** A fake Consul KV on loopback: the HTTP API the `consul` client calls (GET ?recurse, PUT, DELETE), in a Map. */
export interface FakeKv {
  readonly url: string;
  readonly data: Map<string, string>;
  /** Answer the next n requests with 500. */
  fail(n: number): void;
  readonly requests: string[];
  stop(): void;
}

export function fakeConsulKv(): FakeKv {
  const data = new Map<string, string>();
  const requests: string[] = [];
  let failing = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      requests.push(`${request.method} ${url.pathname}${url.search}`);
      if (failing > 0) {
        failing--;
        return new Response("unavailable", { status: 500 });
      }
      const m = /^\/v1\/kv\/(.*)$/.exec(url.pathname);
      if (!m) return new Response("not found", { status: 404 });
      const key = decodeURIComponent(m[1]!);
      if (request.method === "GET") {
        const recurse = url.searchParams.has("recurse");
        const keys = [...data.keys()].filter((k) => (recurse ? k.startsWith(key) : k === key)).sort();
        if (keys.length === 0) return new Response("", { status: 404 });
        const items = keys.map((k, i) => ({ Key: k, Value: Buffer.from(data.get(k)!).toString("base64"), Flags: 0, CreateIndex: i + 1, ModifyIndex: i + 1, LockIndex: 0 }));
        return Response.json(items);
      }
      if (request.method === "PUT") {
        data.set(key, await request.text());
        return Response.json(true);
      }
      if (request.method === "DELETE") {
        data.delete(key);
        return Response.json(true);
      }
      return new Response("method not allowed", { status: 405 });
    },
  });
  return {
    url: `127.0.0.1:${server.port}`,
    data,
    requests,
    fail: (n) => (failing = n),
    stop: () => server.stop(true),
  };
}
