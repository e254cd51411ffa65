/**
 * @module The errors a command can end with. Each has a stable `code` and the HTTP `status` the
 * API answers with; the API maps them in one place (src/api/errors.ts). Messages keep GORB's fixed
 * texts as prefixes ("specified object already exists", ...) so clients that match strings still
 * work, then add the detail GORB never gave.
 */

/** GORB's fixed error texts (gorb-reference §2.7), reused as message prefixes. */
export const GorbText = {
  exists: "specified object already exists",
  notFound: "unable to locate specified object",
  ipvs: "error while calling into IPVS",
  endpointMissing: "endpoint information is missing",
  protocolUnknown: "specified protocol is unknown",
  flagUnknown: "specified flag is unknown",
  methodUnknown: "specified forwarding method is unknown",
  schedulerUnknown: "specified scheduler is unknown",
  pulseTypeUnknown: "specified pulse type is unknown",
  intervalFormat: "invalid interval format",
  families: "incompatible address families",
} as const;

export abstract class GorbError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
}

/** A request that cannot be carried out as given; names the field at fault. */
export class ValidationError extends GorbError {
  override readonly name = "ValidationError";
  readonly code = "VALIDATION";
  readonly status = 400;
  constructor(
    /** Dotted path of the field ("pulse.interval"), or "" for the body as a whole. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends GorbError {
  override readonly name = "NotFoundError";
  readonly code = "NOT_FOUND";
  readonly status = 404;
  constructor(detail: string) {
    super(`${GorbText.notFound}: ${detail}`);
  }
}

export class ConflictError extends GorbError {
  override readonly name = "ConflictError";
  readonly code = "CONFLICT";
  readonly status = 409;
  constructor(detail: string) {
    super(`${GorbText.exists}: ${detail}`);
  }
}

/** Formats "field "x" must be one of a, b, c (got "y")" after a GORB prefix. */
export function enumMessage(prefix: string, field: string, allowed: readonly string[], got: unknown): string {
  return `${prefix}: field "${field}" must be one of ${allowed.join(", ")} (got ${JSON.stringify(got)})`;
}

/** Shorthand for the common "field must be one of" ValidationError. */
export function enumError(prefix: string, field: string, allowed: readonly string[], got: unknown): ValidationError {
  return new ValidationError(field, enumMessage(prefix, field, allowed, got));
}

/** The state store refused a write; nothing was applied. */
export class StoreError extends GorbError {
  override readonly name = "StoreError";
  readonly code = "STORE";
  readonly status = 500;
  constructor(cause: unknown) {
    super(`error while writing the state store: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The VIP of a service could not be added to the `-vipi` interface; nothing was applied. */
export class VipError extends GorbError {
  override readonly name = "VipError";
  readonly code = "VIP";
  readonly status = 500;
  constructor(vip: string, ifname: string, cause: unknown) {
    super(`error while adding the VIP ${vip} to ${ifname}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
