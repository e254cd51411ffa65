/**
 * @module The `-store` URLs. GORB reached consul, etcd, zookeeper and boltdb through
 * docker/libkv; gorb speaks Consul's KV (the project's Consul client covers it) and names the
 * others as unsupported. Pure.
 */

export interface StoreUrls {
  readonly scheme: string;
  /** "host:port" of each endpoint, in the order given. */
  readonly endpoints: string[];
  /** The key prefix, without leading or trailing "/" ("" for none). */
  readonly prefix: string;
}

export const SUPPORTED_STORE_SCHEMES = ["consul"] as const;
const LIBKV_SCHEMES = ["consul", "etcd", "zookeeper", "boltdb", "mock"];

/**
 * Parses `-store` as GORB did: comma-separated `scheme://host:port/prefix`, every URL with the
 * same scheme and prefix (several endpoints of one cluster). Throws Error with the reason.
 */
export function parseStoreUrls(value: string): StoreUrls {
  const parts = value.split(",").map((p) => p.trim());
  let first: { scheme: string; prefix: string } | undefined;
  const endpoints: string[] = [];
  for (const part of parts) {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      throw new Error(`${JSON.stringify(part)} is not a URL (expected scheme://host:port/prefix, e.g. consul://127.0.0.1:8500/gorb)`);
    }
    const scheme = url.protocol.replace(/:$/, "");
    if (!LIBKV_SCHEMES.includes(scheme)) throw new Error(`unknown KV store scheme ${JSON.stringify(scheme)} (GORB's are ${LIBKV_SCHEMES.join(", ")})`);
    if (!(SUPPORTED_STORE_SCHEMES as readonly string[]).includes(scheme)) {
      throw new Error(`the ${scheme} KV store is not supported by gorb (supported: ${SUPPORTED_STORE_SCHEMES.join(", ")}); gorb keeps its own state in --state-dir`);
    }
    if (url.host === "") throw new Error(`${JSON.stringify(part)} has no host:port`);
    const prefix = url.pathname.replace(/^\/+|\/+$/g, "");
    if (first && (first.scheme !== scheme || first.prefix !== prefix)) {
      throw new Error(`every -store URL must have the same scheme and path (${first.scheme}://…/${first.prefix} and ${scheme}://…/${prefix})`);
    }
    first ??= { scheme, prefix };
    endpoints.push(url.port === "" ? `${url.hostname}:8500` : url.host);
  }
  return { scheme: first!.scheme, endpoints, prefix: first!.prefix };
}
