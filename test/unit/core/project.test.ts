import { describe, expect, it } from "bun:test";
import { CONFIGURED_WEIGHTS, project, projectService } from "../../../src/core/project.ts";
import type { DesiredBackend, DesiredService, DesiredState } from "../../../src/core/model.ts";
import type { Destination, Service } from "../../../src/ipvs/types.ts";

const service: Service = { key: { family: "inet", protocol: "tcp", address: "192.0.2.1", port: 80 }, scheduler: "wrr", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" };
const dest = (address: string, weight: number): Destination => ({ family: "inet", address, port: 80, forward: "masq", weight, upperThreshold: 0, lowerThreshold: 0 });
const backend = (id: string, address: string, weight: number) => [id, { id, destination: dest(address, weight) } as DesiredBackend] as const;
const web: DesiredService = { id: "web", options: {} as never, service, backends: new Map([backend("a", "10.0.0.1", 10), backend("b", "10.0.0.2", 20)]) };

describe("project", () => {
  it("uses the configured weights when the runtime has none", () => {
    expect(projectService(web, CONFIGURED_WEIGHTS)).toEqual({ service, destinations: [dest("10.0.0.1", 10), dest("10.0.0.2", 20)] });
  });

  it.each<[string, Record<string, number>, number[]]>([
    ["a backend down", { a: 0 }, [0, 20]],
    ["a backend recovering", { b: 13 }, [10, 13]],
    ["all-down policy one", { a: 1, b: 1 }, [1, 1]],
  ])("puts the effective weights in: %s", (_name, weights, expected) => {
    const entry = projectService(web, { weights: () => new Map(Object.entries(weights)) });
    expect(entry.destinations.map((d) => d.weight)).toEqual(expected);
  });

  it("projects every service of the desired state, in order", () => {
    const other: DesiredService = { ...web, id: "other", service: { ...service, key: { ...service.key, port: 81 } }, backends: new Map() };
    const state: DesiredState = { services: new Map([["web", web], ["other", other]]) };
    expect(project(state, CONFIGURED_WEIGHTS).map((e) => e.destinations.length)).toEqual([2, 0]);
  });
});
