// What every rule reads: a resource as plain data, the deny rules' wording, and the naming contract's prod_ test.
// Only pure modules of ../infra are imported here and in every policy module: the pack runs in its own Node process
// with its own @pulumi/* packages, so nothing it loads may pull in the program's copy of @pulumi/pulumi.

import { record, strings, text } from "../infra/platforms/inputs";
import { PROD_SCHEMA_PREFIX } from "../infra/roster/naming";

export { record, strings, text };

/** A resource as a policy sees it, with every value the engine could not know yet (preview) left out. */
export interface Resource {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  protect: boolean;
  /** The inputs of the resource's provider (postgresql `username`, snowflake `role`), when the engine passes them. */
  provider?: Record<string, unknown>;
}

/** The shape @pulumi/policy hands to both resource and stack policies; tests build the same shape. */
export interface PolicyResourceLike {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  opts: { protect: boolean };
  provider?: { props: Record<string, unknown> } | undefined;
}

/** The engine's unknown-value sentinels (sdk/go/common/resource/plugin): values a preview cannot know yet. */
const UNKNOWN_SENTINELS: ReadonlySet<unknown> = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", "3eeb2bf0-c639-47a8-9e75-3b44932eb421", "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", "030794c1-ac77-496b-92df-f27374a8bd58", "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

// @pulumi/policy's props proxy throws UnknownValueError (which carries unknownTypeSentinel) on reading an unknown value.
const isUnknownValueError = (error: unknown): boolean => error instanceof Error && "unknownTypeSentinel" in error;

function read(container: unknown, key: string | number): { value: unknown } | undefined {
  try {
    const value = (container as Record<string | number, unknown>)[key];
    return UNKNOWN_SENTINELS.has(value) ? undefined : { value };
  } catch (error) {
    if (isUnknownValueError(error)) return undefined;
    throw error;
  }
}

/**
 * A deep plain copy of policy props with unknown values dropped. One unknown field must not make a whole stack policy
 * unreadable (@pulumi/policy would downgrade it to an advisory "can't run during preview"); `pulumi up` checks again
 * with every value known.
 */
export function plain(value: unknown): unknown {
  if (value === null || typeof value !== "object") return UNKNOWN_SENTINELS.has(value) ? undefined : value;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = read(value, i);
      if (item !== undefined) items.push(plain(item.value));
    }
    return items;
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = read(value, key);
    if (field !== undefined && field.value !== undefined) copy[key] = plain(field.value);
  }
  return copy;
}

export function resourceOf(r: PolicyResourceLike): Resource {
  const provider = r.provider === undefined ? undefined : record(plain(r.provider.props));
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: record(plain(r.props)) ?? {},
    protect: r.opts.protect === true,
    ...(provider ? { provider } : {}),
  };
}

export const upper = (values: readonly string[]): string[] => values.map((v) => v.trim().toUpperCase());

/** A prod schema by the naming contract. Case-folded: a PROD_X in PostgreSQL or a quoted "prod_x" in Snowflake is meant as one. */
export const isProdSchema = (schema: string | undefined): boolean =>
  schema !== undefined && schema.toLowerCase().startsWith(PROD_SCHEMA_PREFIX);

export interface Rule {
  id: string;
  says: string;
}

export const RULES = {
  D1: { id: "D1", says: "only prod_writer writes to prod_ schemas" },
  D2: { id: "D2", says: "prod_writer is held only by prod service accounts" },
  D3: { id: "D3", says: "PUBLIC holds nothing on prod_ schemas" },
  D5: { id: "D5", says: "no path lets a non-reader read a restricted domain's prod schema or any developer or CI copy of it" },
  D6: { id: "D6", says: "prod schemas are protected from deletion" },
  D7managed: { id: "D7", says: "Snowflake prod schemas are managed access" },
  D7keys: { id: "D7", says: "service users log in by key pair only" },
} as const satisfies Record<string, Rule>;

/** Every violation reads: which resource, which rule, what it does, how to fix it. */
export const violation = (r: Pick<Resource, "type" | "name">, rule: Rule, what: string, fix: string): string =>
  `${r.type} "${r.name}" breaks ${rule.id} (${rule.says}): ${what}. Fix: ${fix}.`;

/** The way to production writes, said once for every fix that takes write away. */
export const WRITE_PATH = "production writes run as a `purpose: prod` service account of team.yaml, which holds prod_writer";

export const list = (values: readonly string[]): string => values.join(", ");
