/**
 * `npm run build`: one executable, dist/gorb, with `bun build --compile`. Every asset (Swagger UI,
 * the web UI) is imported statically by src/ and so embedded; the binary needs no node_modules.
 */
import { statSync } from "node:fs";
import { join } from "node:path";

const root = import.meta.dir;
const outfile = join(root, "dist", "gorb");
const started = performance.now();
const result = await Bun.build({
  entrypoints: [join(root, "src", "main.ts")],
  compile: { outfile },
  minify: true,
  sourcemap: "linked",
  bytecode: true,
  target: "bun",
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`dist/gorb: ${(statSync(outfile).size / 2 ** 20).toFixed(1)} MiB in ${seconds} s`);
