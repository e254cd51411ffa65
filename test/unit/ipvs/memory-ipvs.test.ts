import { DEFAULT_SCHEDULERS, MemoryIpvs } from "../../../src/ipvs/memory-ipvs.ts";
import { runIpvsContract } from "../../ipvs/contract.ts";

runIpvsContract("MemoryIpvs", async () => new MemoryIpvs(), { schedulers: DEFAULT_SCHEDULERS, daemonInterface: "eth0" });
