/**
 * @module Texts for the start-up failures main reports (the listen address, interfaces), each
 * naming the option at fault and what to do. Pure: main catches the error, these word it.
 */

/**
 * Why the HTTP server could not listen. `code` is the error's `code` ("EADDRINUSE", ...) or an
 * errno number.
 *
 * @example describeListenError("EADDRINUSE", ":4672")
 *   // 'cannot listen on ":4672" (-l): the address is already in use — is another gorb (or GORB) running? Choose another with -l'
 */
export function describeListenError(code: string | number | undefined, address: string): string {
  const name = typeof code === "number" ? (ERRNO_NAMES[code] ?? `errno ${code}`) : (code ?? "unknown error");
  const where = `cannot listen on ${JSON.stringify(address)} (-l)`;
  switch (name) {
    case "EADDRINUSE":
      return `${where}: the address is already in use — is another gorb (or GORB) running? Choose another with -l`;
    case "EACCES":
    case "EPERM":
      return `${where}: permission denied — ports below 1024 need root or CAP_NET_BIND_SERVICE; the default is :4672`;
    case "EADDRNOTAVAIL":
      return `${where}: the address is not on this host — use one of its addresses, or :PORT for all of them`;
    case "EAFNOSUPPORT":
      return `${where}: the address family is not supported (IPv6 disabled?) — use an IPv4 address, e.g. 0.0.0.0:4672`;
    case "ENOTFOUND":
    case "EAI_NONAME":
      return `${where}: the host name does not resolve`;
    default:
      return `${where}: ${name}`;
  }
}

const ERRNO_NAMES: Readonly<Record<number, string>> = { 1: "EPERM", 13: "EACCES", 97: "EAFNOSUPPORT", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL" };

/** The error code of something thrown by a listen call (Bun and Node put it in `code`). */
export function errorCode(e: unknown): string | number | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const code = (e as { code?: unknown; errno?: unknown }).code ?? (e as { errno?: unknown }).errno;
  return typeof code === "string" || typeof code === "number" ? code : undefined;
}

/**
 * An interface named by an option does not exist (or has no address).
 *
 * @param flag "-i" or "-vipi"
 * @param available the host's interface names, listed to help spot a typo
 */
export function describeMissingInterface(name: string, flag: string, available: readonly string[], reason: "missing" | "no-address" = "missing"): string {
  const list = available.length > 0 ? `; this host has ${available.join(", ")}` : "";
  if (reason === "no-address") return `interface ${JSON.stringify(name)} (${flag}) has no address to use as the default VIP${list}`;
  return `no such network interface: ${JSON.stringify(name)} (${flag})${list}`;
}

/** GORB refused to start without root; gorb says what it needs instead. */
export function describeNoPrivilege(): string {
  return "gorb needs CAP_NET_ADMIN to program IPVS: run it as root (or grant the capability), or use --ipvs memory to try it without the kernel";
}
