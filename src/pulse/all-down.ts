/**
 * @module What a service does when none of its backends would get traffic: GORB sets them all
 * to 0 (`zero`); `keep` restores every configured weight so traffic still flows somewhere (fail
 * open); `one` sets weight 1 on all. Pure.
 */
import { Type } from "@sinclair/typebox/type";
import type { BackendStatus } from "./types.ts";

export const ALL_DOWN_POLICIES = ["zero", "keep", "one"] as const;
export type AllDownPolicy = (typeof ALL_DOWN_POLICIES)[number];

/** TypeBox schema for a service's all-down policy field (default "zero", as GORB). */
export const AllDownPolicySchema = Type.Union(
  ALL_DOWN_POLICIES.map((p) => Type.Literal(p)),
  { description: 'when every backend is down: "zero" (GORB), "keep" configured weights, or "one"', default: "zero" },
);

export function isAllDownPolicy(value: unknown): value is AllDownPolicy {
  return ALL_DOWN_POLICIES.includes(value as AllDownPolicy);
}

/** One backend of a service as the policy sees it. */
export interface AllDownInput {
  readonly configured: number;
  readonly effective: number;
  readonly status: BackendStatus;
}

/**
 * True when the service is "all down": at least one backend has a configured weight > 0 and
 * every such backend has effective weight 0 — down, or recovering with a weight GORB's
 * truncation took to 0 (either way no traffic would flow). Backends configured at 0 are drained
 * by the operator and never count (nor get traffic back).
 */
export function isAllDown(backends: readonly AllDownInput[]): boolean {
  let serving = 0;
  for (const b of backends) {
    if (b.configured <= 0) continue;
    if (b.effective > 0) return false;
    serving++;
  }
  return serving > 0;
}

/**
 * Final weights for one service, in input order. Unless the service is all down, the effective
 * weights pass through unchanged; when it is, `zero` keeps them (all 0), `keep` returns the
 * configured weights and `one` returns 1 for every backend with a configured weight > 0.
 */
export function applyAllDownPolicy(policy: AllDownPolicy, backends: readonly AllDownInput[]): number[] {
  if (policy === "zero" || !isAllDown(backends)) return backends.map((b) => b.effective);
  if (policy === "keep") return backends.map((b) => Math.max(0, b.configured));
  return backends.map((b) => (b.configured > 0 ? 1 : 0));
}
