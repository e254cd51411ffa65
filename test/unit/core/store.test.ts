import { describe, expect, it } from "bun:test";
import { MemoryStateStore } from "../../../src/core/store.ts";

const service = { port: 80 } as never;
const backend = { host: "10.0.0.1" } as never;

describe("MemoryStateStore", () => {
  it("applies a batch of changes", async () => {
    const store = new MemoryStateStore();
    await store.write([
      { kind: "put-service", id: "web", options: service },
      { kind: "put-backend", serviceId: "web", id: "a", options: backend },
      { kind: "put-backend", serviceId: "web", id: "b", options: backend },
    ]);
    await store.write([{ kind: "delete-backend", serviceId: "web", id: "a" }]);
    expect(await store.load()).toEqual([{ id: "web", options: service, backends: [{ id: "b", options: backend }] }]);
    await store.write([{ kind: "delete-service", id: "web" }]);
    expect(await store.load()).toEqual([]);
  });

  it("applies nothing when one change is impossible", async () => {
    const store = new MemoryStateStore();
    await store.write([{ kind: "put-service", id: "web", options: service }]);
    await expect(
      store.write([
        { kind: "put-backend", serviceId: "web", id: "a", options: backend },
        { kind: "put-backend", serviceId: "nope", id: "b", options: backend },
      ]),
    ).rejects.toThrow("no service");
    expect((await store.load())[0]!.backends).toEqual([]);
  });

  it("fails on demand (test knob)", async () => {
    const store = new MemoryStateStore();
    store.failNextWrite = new Error("disk full");
    await expect(store.write([{ kind: "put-service", id: "web", options: service }])).rejects.toThrow("disk full");
    await store.write([{ kind: "put-service", id: "web", options: service }]);
    expect(await store.load()).toHaveLength(1);
  });
});
