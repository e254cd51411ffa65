/** The shared Ipvs contract, against the real kernel (runs inside the VM, as root). */
import { openKernelIpvs } from "../../../src/ipvs/kernel-ipvs.ts";
import { DEFAULT_SCHEDULERS } from "../../../src/ipvs/memory-ipvs.ts";
import { runIpvsContract } from "../../ipvs/contract.ts";

runIpvsContract("KernelIpvs", () => openKernelIpvs(), { schedulers: DEFAULT_SCHEDULERS, daemonInterface: "eth0" });
