/**
 * @module How the driver's hot functions meet JavaScriptCore's JIT. Measured in the emulated VM
 * (where gorb's kernel tests and benchmarks run, and a stand-in for a slow machine), a cold bulk
 * load of 11,000 objects spent most of its user time compiling, not running: DFG compiles
 * (about 0.6 s of a 0.9 s load) and FTL compiles, which cost more than a whole load and are never
 * paid back by a daemon whose bulk loads are rare and short. So:
 *  - no hot function is ever FTL-compiled (it still reaches the baseline and DFG tiers);
 *  - the larger ones are never inlined: each is DFG-compiled once, on its own, instead of again
 *    inside every caller that gets hot (a call costs nanoseconds; a compile, milliseconds).
 * Tiny leaves (a mask, a length check) stay inlinable: they are cheap to compile anywhere.
 */
import * as jsc from "bun:jsc";

type AnyFunction = (...args: never[]) => unknown;
type JscFunction = (...args: unknown[]) => unknown;

const noFTL = jsc.noFTL;
// Bun has it (jsc's `noInline`), its type declarations do not.
const noInline = (jsc as unknown as { noInline?: (f: JscFunction) => void }).noInline;

/** Never FTL-compiled: for tiny hot leaves. Call it where they are defined, before they get hot. */
export function noFtl(...functions: AnyFunction[]): void {
  for (const f of functions) noFTL(f as JscFunction);
}

/** Never FTL-compiled and never inlined: each compiled once, alone. */
export function compileAlone(...functions: AnyFunction[]): void {
  for (const f of functions) {
    noFTL(f as JscFunction);
    noInline?.(f as JscFunction);
  }
}

/** `compileAlone` for every method a class defines (its prototype's own functions). */
export function compileMethodsAlone(prototype: object): void {
  for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(prototype))) {
    if (name !== "constructor" && typeof d.value === "function") compileAlone(d.value as AnyFunction);
  }
}
