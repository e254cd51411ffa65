/**
 * @module Request bodies checked against their TypeBox models (compiled once), with errors that
 * name the field and its allowed values, after GORB's fixed text where GORB had one.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import type { ValueError } from "@sinclair/typebox/errors";
import { ValidationError, enumMessage } from "../core/errors.ts";

export interface Validator<T extends TSchema> {
  /** Returns the body typed, or throws a ValidationError naming the first bad field. */
  check(value: unknown): Static<T>;
}

/**
 * @param prefixes GORB's text per field path ("protocol" → "specified protocol is unknown"),
 *   put before the detail so clients matching GORB's strings still match.
 */
export function compileValidator<T extends TSchema>(schema: T, prefixes: Readonly<Record<string, string>> = {}): Validator<T> {
  const compiled: TypeCheck<T> = TypeCompiler.Compile(schema);
  return {
    check(value) {
      if (compiled.Check(value)) return value;
      const error = compiled.Errors(value).First();
      if (!error) throw new ValidationError("", "request body does not match the model");
      throw describe(error, prefixes);
    },
  };
}

function describe(error: ValueError, prefixes: Readonly<Record<string, string>>): ValidationError {
  const field = error.path.replace(/^\//, "").replaceAll("/", ".");
  const name = field === "" ? "body" : field;
  const schema = error.schema as Record<string, unknown>;
  const choices = literals(schema);
  const prefix = prefixes[field];
  let detail: string;
  if (choices) {
    return new ValidationError(field, enumMessage(prefix ?? "invalid value", name, choices, error.value));
  } else if (schema.type === "integer" || schema.type === "number") {
    const range = schema.minimum !== undefined && schema.maximum !== undefined ? ` from ${schema.minimum} to ${schema.maximum}` : "";
    detail = `field "${name}" must be ${schema.type === "integer" ? "an integer" : "a number"}${range} (got ${JSON.stringify(error.value)})`;
  } else if (schema.type === "string") {
    detail = `field "${name}" must be a string (got ${JSON.stringify(error.value)})`;
  } else if (schema.type === "boolean") {
    detail = `field "${name}" must be true or false (got ${JSON.stringify(error.value)})`;
  } else if (schema.type === "object") {
    detail = `field "${name}" must be a JSON object (got ${JSON.stringify(error.value)})`;
  } else {
    detail = `field "${name}": ${error.message} (got ${JSON.stringify(error.value)})`;
  }
  return new ValidationError(field, prefix ? `${prefix}: ${detail}` : `invalid value: ${detail}`);
}

/** The allowed values of a union of literals (or an enum), else undefined. */
function literals(schema: Record<string, unknown>): string[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum.map(String);
  const options = schema.anyOf;
  if (!Array.isArray(options)) return undefined;
  const values: string[] = [];
  for (const option of options as Record<string, unknown>[]) {
    if (!("const" in option)) return undefined;
    values.push(String(option.const));
  }
  return values;
}
