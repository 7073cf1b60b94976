import type { DeclaredResource } from "../platforms/declare";
import { platformOf, type ProviderResourceType } from "../platforms/kinds";
import { namesOf } from "../platforms/resources";
import type { Platform } from "../stack";

// What `pulumi up` would manage, by platform and resource type: the size of the change a reviewer approves; and, for
// `plan --resources` and `plan --json`, every resource itself, exactly as the Pulumi layer registers it.

export interface ManagedResourceCount {
  platform: Platform;
  /** As the program writes it: `postgresql.Grant`, `snowflake.ServiceUser`, or our component's type token. */
  type: string;
  count: number;
}

/** One resource as `pulumi up` would register it, the resources it names by their logical names. */
export interface ManagedResource {
  platform: Platform;
  type: string;
  name: string;
  parent?: string;
  inputs: Record<string, unknown>;
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  ignoreChanges: readonly string[];
  dependsOn: readonly string[];
  replaceWith: readonly string[];
}

export interface ManagedResources {
  /** The stack configuration the platforms were read from. */
  stackConfig: string;
  byType: ManagedResourceCount[];
  totals: Partial<Record<Platform, number>>;
  /** Every resource, in registration order (`plan --resources`, `plan --json`). */
  list?: ManagedResource[];
}

/** `postgresql:index/grant:Grant` → postgresql.Grant; component tokens stay as they are. */
export const typeName = (token: string): string => {
  const [pkg, , name] = token.split(":");
  return pkg === "warehouse-access" || name === undefined ? token : `${pkg}.${name}`;
};

/** Counts by platform and type, and with `withList` every resource as well. */
export function managedResources(declared: readonly DeclaredResource[], stackConfig: string, withList = false): ManagedResources {
  const counts = new Map<string, ManagedResourceCount>();
  const totals: ManagedResources["totals"] = {};
  const list: ManagedResource[] = [];
  for (const r of declared) {
    const { type } = r;
    const platform = platformOf(type);
    if (platform === undefined) continue;
    if (withList) list.push({
      platform, type, name: r.name, ...(r.parent === undefined ? {} : { parent: r.parent.name }), inputs: r.inputs,
      protect: r.protect, retainOnDelete: r.retainOnDelete, deleteBeforeReplace: r.deleteBeforeReplace,
      ignoreChanges: r.ignoreChanges, dependsOn: namesOf(r.dependsOn), replaceWith: namesOf(r.replaceWith),
    });
    const key = `${platform}\u0000${type}`;
    const entry = counts.get(key) ?? { platform, type: typeName(type), count: 0 };
    entry.count++;
    counts.set(key, entry);
    totals[platform] = (totals[platform] ?? 0) + 1;
  }
  const byType = [...counts.values()].sort((a, b) => a.platform.localeCompare(b.platform) || b.count - a.count || a.type.localeCompare(b.type));
  return { stackConfig, byType, totals, ...(withList ? { list } : {}) };
}

/** The inputs a reviewer checks first, per resource type: who, what, where. Bodies, comments and keys stay in --json. */
const KEY_INPUTS: Record<ProviderResourceType, string[]> = {
  "postgresql:index/role:Role": ["name", "login", "roles", "assumeRole"],
  "postgresql:index/schema:Schema": ["database", "name", "owner"],
  "postgresql:index/grant:Grant": ["role", "privileges", "objectType", "schema"],
  "postgresql:index/defaultPrivileges:DefaultPrivileges": ["role", "privileges", "objectType", "owner", "schema"],
  "postgresql:index/function:Function": ["schema", "name", "securityDefiner"],
  "postgresql:index/grantRole:GrantRole": ["role", "grantRole"],
  "snowflake:index/accountRole:AccountRole": ["name"],
  "snowflake:index/grantAccountRole:GrantAccountRole": ["roleName", "userName", "parentRoleName"],
  "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole": ["accountRoleName", "privileges", "onAccountObject", "onSchema", "onSchemaObject"],
  "snowflake:index/grantOwnership:GrantOwnership": ["accountRoleName", "on"],
  "snowflake:index/schema:Schema": ["database", "name", "withManagedAccess"],
  "snowflake:index/procedureSql:ProcedureSql": ["database", "schema", "name", "executeAs"],
  "snowflake:index/authenticationPolicy:AuthenticationPolicy": ["name", "authenticationMethods"],
  "snowflake:index/serviceUser:ServiceUser": ["name", "defaultRole", "defaultWarehouse"],
  "snowflake:index/userAuthenticationPolicyAttachment:UserAuthenticationPolicyAttachment": ["userName", "authenticationPolicyName"],
};

/** A value in one line: lists comma-separated, nested inputs as key=value inside braces. */
const compact = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(compact).join(",")}]`
    : typeof value === "object" && value !== null
      ? `{${Object.entries(value).map(([k, v]) => `${k}=${compact(v)}`).join(" ")}}`
      : String(value);

/** `role=prod_reader privileges=[USAGE] objectType=schema schema=prod_sales`: the key inputs that are set. */
export function keyInputs(resource: Pick<ManagedResource, "type" | "inputs">): string {
  const keys = KEY_INPUTS[resource.type as ProviderResourceType] ?? [];
  return keys.filter((k) => resource.inputs[k] !== undefined).map((k) => `${k}=${compact(resource.inputs[k])}`).join(" ");
}

/** What removing the resource from the stack does to its data: "protected, retained", "retained", or nothing. */
export const lifecycle = (r: Pick<ManagedResource, "protect" | "retainOnDelete">): string =>
  [r.protect ? "protected" : "", r.retainOnDelete ? "retained" : ""].filter(Boolean).join(", ");
