/**
 * @module GET /service/{vs}/{rs} as GORB shapes it ({options, metrics}) plus the kernel's stats.
 * `options.weight` is the weight IPVS has now, as in GORB; the configured one is beside it.
 */
import type { BackendView } from "../../core/core.ts";
import { destinationStatsView } from "../stats.ts";

export function backendView(view: BackendView) {
  const { options, destination } = view.backend;
  // The checker may report more than core's interface names (last check, latency, error).
  const { status, health, uptime, ...more } = view.health as BackendView["health"] & Record<string, unknown>;
  return {
    options: {
      host: options.host,
      port: options.port,
      weight: view.weight,
      method: options.method,
      pulse: options.pulse,
      vsid: view.service.id,
      configured_weight: options.weight,
      tunnel_type: options.tunnel_type,
      tunnel_port: options.tunnel_port,
      tunnel_checksum: options.tunnel_checksum,
      upper_threshold: options.upper_threshold,
      lower_threshold: options.lower_threshold,
      address: destination.address,
    },
    metrics: { status, health: status === "unknown" ? null : health, uptime, ...snakeKeys(more) },
    stats: view.kernel ? destinationStatsView(view.kernel) : null,
  };
}

/** The checker's extra metrics (lastCheckAt → last_check_at), without its own weight copy. */
function snakeKeys(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === "weight") continue;
    out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  }
  return out;
}
