// terraform-provider-postgresql v1.27.0's resource schemas as the engine's diff meets them: each attribute's Default,
// whether it is Computed or ForceNew, and how its DiffSuppressFunc compares (resourcePostgreSQL*() in
// resource_postgresql_{role,schema,grant,default_privileges,grant_role,function}.go at ff936b9). What the provider does
// with a resource is ./provider; what a diff of config against stored state finds, and whether it replaces, is here.

import { normalizeFunctionBody, RESOURCE_TYPES } from "./apply";

/** What the stack's state holds for one resource: its attributes as the provider's last read left them (Pulumi input names). */
export type Attributes = Record<string, unknown>;

/** Two sets of strings are one whatever their order: a TypeSet attribute's comparison. */
export const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
};

type Kind = "scalar" | "set" | "list";
interface Attribute {
  kind: Kind;
  /** The schema's Default; `computed` attributes left out of the config take what the provider read instead. */
  default?: unknown;
  computed?: boolean;
  forceNew?: boolean;
}

const scalar = (value: unknown, forceNew = false): Attribute => ({ kind: "scalar", default: value, forceNew });
const computed = (forceNew = false): Attribute => ({ kind: "scalar", computed: true, forceNew });
const set = (forceNew = false): Attribute => ({ kind: "set", default: [], forceNew });

/** Each resource's attributes as its schema declares them (resourcePostgreSQL*() in the provider), under Pulumi's names. */
export const ATTRIBUTES: Record<string, Record<string, Attribute>> = {
  [RESOURCE_TYPES.role]: {
    name: scalar(""), superuser: scalar(false), createDatabase: scalar(false), createRole: scalar(false), inherit: scalar(true),
    login: scalar(false), replication: scalar(false), bypassRowLevelSecurity: scalar(false), connectionLimit: scalar(-1),
    encryptedPassword: scalar(true), validUntil: scalar("infinity"), roles: set(), searchPaths: { kind: "list", default: [] },
    statementTimeout: scalar(0), idleInTransactionSessionTimeout: scalar(0), assumeRole: scalar(""),
    skipDropRole: scalar(false), skipReassignOwned: scalar(false),
  },
  [RESOURCE_TYPES.schema]: { name: scalar(""), database: computed(true), owner: computed(), ifNotExists: scalar(true), dropCascade: scalar(false) },
  [RESOURCE_TYPES.grant]: {
    database: scalar("", true), schema: scalar("", true), objectType: scalar("", true), objects: set(true), columns: set(true),
    privileges: set(), role: scalar("", true), withGrantOption: scalar(false, true),
  },
  [RESOURCE_TYPES.defaultPrivileges]: {
    database: scalar("", true), schema: scalar("", true), owner: scalar("", true), role: scalar("", true), objectType: scalar("", true),
    privileges: set(), withGrantOption: scalar(false, true),
  },
  [RESOURCE_TYPES.grantRole]: { role: scalar("", true), grantRole: scalar("", true), withAdminOption: scalar(false, true) },
  [RESOURCE_TYPES.function]: {
    schema: computed(true), name: scalar("", true), args: { kind: "list", default: [], forceNew: true }, returns: computed(true),
    language: scalar("plpgsql", true), body: scalar(""), volatility: scalar("VOLATILE"), parallel: scalar("UNSAFE"),
    securityDefiner: scalar(false), strict: scalar(false), dropCascade: scalar(false), database: computed(true),
  },
};

/** The config as the provider sees it: every attribute the schema defaults, filled in. */
export function withDefaults(type: string, inputs: Attributes): Attributes {
  const attributes = ATTRIBUTES[type];
  if (!attributes) throw new Error(`the sandbox's provider does not know ${type}`);
  const result: Attributes = { ...inputs };
  for (const [key, attribute] of Object.entries(attributes)) if (result[key] === undefined && !attribute.computed) result[key] = attribute.default;
  return result;
}

/** The provider's Diff for one resource: which attributes differ between the config and the stored state, and whether that replaces it. */
export function diffAttributes(type: string, inputs: Attributes, state: Attributes): { changed: string[]; replace: boolean } {
  const config = withDefaults(type, inputs);
  const changed: string[] = [];
  for (const [key, attribute] of Object.entries(ATTRIBUTES[type]!)) {
    const wanted = config[key];
    if (wanted === undefined) continue; // Optional+Computed and not in the config: whatever was read stands.
    if (!sameAttribute(type, key, attribute.kind, wanted, state[key])) changed.push(key);
  }
  return { changed, replace: changed.some((key) => ATTRIBUTES[type]![key]!.forceNew === true) };
}

function sameAttribute(type: string, key: string, kind: Kind, wanted: unknown, stored: unknown): boolean {
  if (type === RESOURCE_TYPES.function && key === "body") return normalizeFunctionBody(String(wanted)) === stored; // the body's DiffSuppressFunc
  if (type === RESOURCE_TYPES.function && key === "args") {
    // Each argument compared as the schema does: mode "" and "IN" are the same (its DiffSuppressFunc), default "" when unset.
    const norm = (args: unknown) => (Array.isArray(args) ? args : []).map((a: Record<string, unknown>) => ({
      type: String(a.type ?? ""), name: String(a.name ?? ""), mode: a.mode === undefined || a.mode === "" ? "IN" : String(a.mode), default: String(a.default ?? ""),
    }));
    return JSON.stringify(norm(wanted)) === JSON.stringify(norm(stored));
  }
  if (kind === "set") return sameSet(Array.isArray(wanted) ? (wanted as string[]) : [], Array.isArray(stored) ? (stored as string[]) : []);
  return JSON.stringify(wanted) === JSON.stringify(stored ?? (kind === "list" ? [] : null));
}
