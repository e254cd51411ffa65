/**
 * @module One IpvsOperation → one generic-netlink request. Pure; the kernel driver batches them.
 */
import { compileAlone } from "../jit.ts";
import { Cmd, IPVS_GENL_VERSION } from "../constants.ts";
import { NLM_F_REQUEST } from "../netlink/constants.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { IpvsOperation } from "../types.ts";
import { writeService, writeServiceKeyNest } from "./service.ts";
import { writeDestination, writeDestinationKeyNest } from "./destination.ts";
import { writeDaemon, writeDaemonStop, writeTimeouts } from "./config.ts";

const COMMAND: Record<IpvsOperation["op"], number> = {
  "add-service": Cmd.NEW_SERVICE,
  "update-service": Cmd.SET_SERVICE,
  "delete-service": Cmd.DEL_SERVICE,
  "add-destination": Cmd.NEW_DEST,
  "update-destination": Cmd.SET_DEST,
  "delete-destination": Cmd.DEL_DEST,
  flush: Cmd.FLUSH,
  zero: Cmd.ZERO,
  "set-timeouts": Cmd.SET_CONFIG,
  "start-daemon": Cmd.NEW_DAEMON,
  "stop-daemon": Cmd.DEL_DAEMON,
};

/** Writes `op` as one request message; returns the message's offset in the writer. */
export function encodeOperation(w: MessageWriter, family: number, seq: number, flags: number, op: IpvsOperation): number {
  const start = w.beginGenl(family, NLM_F_REQUEST | flags, seq, COMMAND[op.op], IPVS_GENL_VERSION);
  switch (op.op) {
    case "add-service":
    case "update-service":
      writeService(w, op.service);
      break;
    case "delete-service":
      writeServiceKeyNest(w, op.key);
      break;
    case "add-destination":
    case "update-destination":
      writeServiceKeyNest(w, op.service);
      writeDestination(w, op.destination);
      break;
    case "delete-destination":
      writeServiceKeyNest(w, op.service);
      writeDestinationKeyNest(w, op.destination);
      break;
    case "zero":
      if (op.service) writeServiceKeyNest(w, op.service);
      break;
    case "set-timeouts":
      writeTimeouts(w, op.timeouts);
      break;
    case "start-daemon":
      writeDaemon(w, op.daemon);
      break;
    case "stop-daemon":
      writeDaemonStop(w, op.role);
      break;
    case "flush":
      break;
  }
  w.endMessage(start);
  return start;
}

compileAlone(encodeOperation);
