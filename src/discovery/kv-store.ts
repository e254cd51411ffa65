/**
 * @module The KV store of GORB's `-store`: a Consul KV over its HTTP API, through the `consul`
 * client (the URLs are parsed in store-url.ts).
 */
import Consul from "consul";
import { httpStatus } from "./consul.ts";
import type { StoreUrls } from "./store-url.ts";

/** A flat key/value store under one prefix: what the sync needs of it. */
export interface KvStore {
  /** Where it is (for log lines): "consul://127.0.0.1:8500/gorb". */
  readonly location: string;
  /** Every key under `dir` (relative to the store's prefix) with a value, by key relative to `dir`. Empty when none. */
  list(dir: string): Promise<Map<string, string>>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

const TIMEOUT_MS = 5_000;

/**
 * A Consul KV store at `urls`. A call goes to the endpoint that answered last; when it cannot
 * be reached, the next endpoint is tried (an HTTP error answer is final: the cluster spoke).
 */
export function consulKvStore(urls: StoreUrls, timeoutMs = TIMEOUT_MS): KvStore {
  const clients = urls.endpoints.map((endpoint) => {
    const at = endpoint.lastIndexOf(":");
    return new Consul({ host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) });
  });
  let current = 0;
  const call = async <T>(fn: (client: Consul) => Promise<T>): Promise<T> => {
    let lastError: unknown;
    for (let i = 0; i < clients.length; i++) {
      const index = (current + i) % clients.length;
      try {
        const result = await fn(clients[index]!);
        current = index;
        return result;
      } catch (e) {
        if (httpStatus(e) !== undefined) throw e;
        lastError = e;
      }
    }
    throw lastError;
  };
  const full = (key: string) => [urls.prefix, key].filter((p) => p !== "").join("/");
  return {
    location: `${urls.scheme}://${urls.endpoints.join(",")}/${urls.prefix}`,
    async list(dir) {
      const base = `${full(dir)}/`;
      const options = { key: base, recurse: true, timeout: timeoutMs };
      const items = await call((c) => c.kv.get(options));
      const entries = new Map<string, string>();
      for (const item of Array.isArray(items) ? items : []) {
        // Directory placeholders have no value (GORB broke on them).
        if (item.Value === null || item.Value === "" || !item.Key.startsWith(base)) continue;
        entries.set(item.Key.slice(base.length), item.Value);
      }
      return entries;
    },
    async put(key, value) {
      const options = { key: full(key), value, timeout: timeoutMs };
      await call((c) => c.kv.set(options));
    },
    async delete(key) {
      const options = { key: full(key), timeout: timeoutMs };
      await call((c) => c.kv.del(options));
    },
  };
}
