import { accessOf, accessView } from "../../boundary/access";
import { PUBLIC, type Boundary, type Principal, type Role, type RoleName } from "../../boundary/model";
import { snowflakeName } from "../../roster/naming";
import type { StackSettings } from "../../stack";
import type { CiSchemaProcedureSpec } from "./ci-schemas";

// Snowflake-only consequences of the boundary's roles: what each role needs from the database, a warehouse and the
// provisioner's role. Nothing here grants access to a schema; that comes from the boundary's grants and owners alone.

type SnowflakeSettings = NonNullable<StackSettings["snowflake"]>;

/** Roles whose objects the provisioner must keep managing: schema owners, writers (they own what they create), the CI creator. */
export function objectOwningRoles(boundary: Boundary): RoleName[] {
  // The CI role too: CREATE_CI_SCHEMA runs as the provisioner's role, which must hold CI_BUILDER to see and hand over CI schemas.
  const owners = new Set<RoleName>([boundary.ciSchemas.creator]);
  for (const schema of boundary.schemas) if (schema.owner !== null) owners.add(schema.owner);
  for (const grant of boundary.grants) if (grant.access === "write") owners.add(grant.role);
  return boundary.roles.map((r) => r.name).filter((name) => owners.has(name));
}

/**
 * Database USAGE for every role that uses a schema (the CI creator calls CREATE_CI_SCHEMA in it), unless it inherits
 * USAGE from a role it is a member of (developer roles get it through prod_reader), which keeps the per-developer cost
 * flat. No role gets CREATE SCHEMA: with it CI could create, or rename its schema to, a PROD_ name (D1).
 */
export function databasePrivileges(boundary: Boundary): Map<RoleName, string[]> {
  const needsUsage = new Set<RoleName>([boundary.ciSchemas.creator]);
  for (const schema of boundary.schemas) if (schema.owner !== null) needsUsage.add(schema.owner);
  for (const grant of boundary.grants) if (grant.role !== PUBLIC) needsUsage.add(grant.role);

  const view = accessView(boundary);
  const reach = new Map(boundary.roles.map((r) => [r.name, view.reachable(r.name)]));
  // A role in a cycle with this one cannot be relied on to hold the grant for both, so only strictly upstream roles count.
  const inheritsUsage = (role: RoleName): boolean =>
    [...(reach.get(role)?.keys() ?? [])].some((other) => other !== role && needsUsage.has(other) && !reach.get(other)?.has(role));

  const privileges = new Map<RoleName, string[]>();
  for (const { name } of boundary.roles) {
    if (needsUsage.has(name) && !inheritsUsage(name)) privileges.set(name, ["USAGE"]);
  }
  return privileges;
}

/** The stack's warehouse a role runs queries on: developers', CI's or production's; reader roles ride on their members'. */
export function warehouseOf(role: Role, settings: SnowflakeSettings): string | undefined {
  switch (role.kind) {
    case "developer": return settings.warehouses.developers;
    case "ci_builder": return settings.warehouses.ci;
    case "prod_writer": return settings.warehouses.prod;
    default: return undefined;
  }
}

/** The role a service account's sessions start in: the first role the boundary makes it a member of. */
export function defaultRoleOf(boundary: Boundary, principal: Principal): Role | undefined {
  const name = boundary.memberships.find((m) => m.member === principal.name)?.role;
  return boundary.roles.find((r) => r.name === name);
}

/** The procedure's spec for a boundary: CI copies exactly the domains whose prod schema its role reads. */
export function ciSchemaProcedureSpec(boundary: Boundary, database: string, owner: string, marker: string): CiSchemaProcedureSpec {
  const creator = boundary.ciSchemas.creator;
  const prod = boundary.schemas.filter((s) => s.kind === "prod");
  // What the creator reads itself or through the roles it holds (CI_BUILDER reads prod as a member of PROD_READER).
  const readable = new Set(accessOf(boundary, creator).map((p) => p.schema));
  return {
    database,
    creator: snowflakeName(creator),
    owner,
    marker,
    domains: prod.filter((s) => readable.has(s.name)).map((s) => snowflakeName(s.domain)),
    restricted: prod.filter((s) => !readable.has(s.name)).map((s) => snowflakeName(s.domain)),
    copies: boundary.ciSchemas.restrictedCopies.map(snowflakeName),
  };
}
