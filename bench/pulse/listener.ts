/**
 * @module Loopback TCP listeners for the pulse benchmark, in their own process so the measured
 * CPU is the checker's. Prints the ports as one JSON line, then serves until killed.
 * Usage: bun bench/pulse/listener.ts [count=16]
 */
const count = Number(process.argv[2] ?? 16);
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  // Accept and hold: the checker resets the connection, so no FIN dance and no TIME_WAIT here.
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, error() {}, close() {} } });
  ports.push(listener.port);
}
console.log(JSON.stringify({ ports }));
