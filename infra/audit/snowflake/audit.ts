import type { Boundary } from "../../boundary/model";
import { snowflakeName } from "../../roster/naming";
import { declaredWriters } from "../declared";
import type { PathStatus } from "../live";
import { holderKey, readSnowflakeCatalog, type HeldPower, type Holder, type SnowflakeCatalog, type SnowflakePower } from "./catalog";
import type { SnowflakeSession } from "./session";

// "Who can write to prod?" on a live Snowflake account: every role and user that reaches a power over a PROD_ schema
// through the role hierarchy, each path labelled declared (the boundary grants it), admin (through the provisioner's
// or the account's administrative roles) or DRIFT (anything else).

/** The account's administrative roles: ACCOUNTADMIN holds SYSADMIN (which owns databases) and SECURITYADMIN (MANAGE GRANTS). */
export const SYSTEM_ADMIN_ROLES: readonly string[] = ["ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN"];

/** Every role and user holds PUBLIC (docs "Overview of Access Control", system-defined roles). */
const PUBLIC_ROLE = "PUBLIC";

export interface SnowflakeAuditOptions {
  /** warehouse-access:snowflake.adminRole: the roles that write roll up to it. */
  adminRole: string;
  /** snowflake:role: the role `pulumi up` runs as; it owns the prod schemas. */
  provisionerRole: string;
}

export interface SnowflakeWritePath {
  /** The role, database role or user that can act; "PUBLIC" for every user. */
  principal: string;
  principalKind: Holder["kind"] | "everyone";
  schema: string;
  power: SnowflakePower;
  privilege: string | null;
  objects: string[];
  objectCount: number;
  source: HeldPower["source"];
  /** Principal first, then each role it holds on the way to the holder of the power. */
  chain: string[];
  /** self: holds it; inherits: a role holding the holder; for users, "USE ROLE" (a session switches to the role) or
   *  "secondary roles" (DEFAULT_SECONDARY_ROLES = ('ALL'): active in every session without switching). */
  reach: "self" | "inherits" | "USE ROLE" | "secondary roles";
  status: PathStatus;
  because: string;
}

export interface SnowflakeSchemaWriters {
  schema: string;
  declared: boolean;
  domain?: string;
  restricted?: boolean;
  owner: string;
  managedAccess: boolean;
  writers: SnowflakeWritePath[];
}

export interface SnowflakeLiveAudit {
  source: "live";
  platform: "snowflake";
  database: string;
  adminRole: string;
  provisionerRole: string;
  adminRoles: string[];
  /** How many statements were issued, and what that is for S prod schemas. */
  statements: number;
  statementFormula: string;
  freshness: string;
  schemas: SnowflakeSchemaWriters[];
  missingSchemas: string[];
  undeclaredSchemas: string[];
  /** Prod schemas without MANAGED ACCESS: their object owners can grant onward (D7). */
  unmanagedSchemas: string[];
  drift: number;
}

export const FRESHNESS =
  "Prod schemas, their grants, future grants and database grants: SHOW (current). Role hierarchy, user grants, MANAGE GRANTS and per-object grants: SNOWFLAKE.ACCOUNT_USAGE (up to 120 minutes behind).";

/** 2S + 7 whatever the number of roles R, users U and tables; reading per role as Permifrost and SnowDDL do takes about 2R + U + 2S. */
export const statementFormula = (schemas: number): string =>
  `2S + 7 = ${2 * schemas + 7} statements for S = ${schemas} prod schemas, independent of roles, users and tables (per-role SHOW GRANTS TO ROLE / SHOW FUTURE GRANTS TO ROLE and SHOW GRANTS TO USER, as Permifrost and SnowDDL read, take about 2R + U + 2S)`;

/** Powers no roster ever grants: holding one is drift for anyone but an admin path. */
const NEVER_DECLARED: ReadonlySet<SnowflakePower> = new Set(["schema owner", "MANAGE GRANTS", "CREATE SCHEMA on database", "database owner"]);

const chainKey = (chain: readonly string[]): string => chain.join("\u0000");

/** Per prod schema (Snowflake name), the chains the boundary declares as writers, and each tail: role:PROD_WRITER alone too. */
function declaredChains(boundary: Boundary): Map<string, Set<string>> {
  const login = new Map(boundary.principals.map((p) => [p.name, p.logins.snowflake]));
  const chains = new Map<string, Set<string>>();
  for (const schema of declaredWriters(boundary).schemas) {
    const set = new Set<string>();
    for (const w of schema.writers) {
      if (w.admin || w.kind === "public") continue;
      const names = w.chain.map((name, i) => (i === 0 && login.has(name) ? `user:${login.get(name)!}` : `role:${snowflakeName(name)}`));
      for (let i = 0; i < names.length; i++) set.add(chainKey(names.slice(i)));
    }
    chains.set(snowflakeName(schema.schema), set);
  }
  return chains;
}

interface Reached {
  holder: Holder;
  /** Keys, principal first, down to the power's holder. */
  chain: Holder[];
}

/** Everyone who holds `holder`, directly or through roles granted to roles (breadth first: the shortest chain each). */
function reachersOf(holder: Holder, grantees: Map<string, Holder[]>): Reached[] {
  const seen = new Map<string, Reached>([[holderKey(holder), { holder, chain: [holder] }]]);
  const queue: Reached[] = [seen.get(holderKey(holder))!];
  while (queue.length > 0) {
    const current = queue.shift()!;
    // Users hold nothing onward; the PUBLIC role reaches everyone, reported once as such.
    if (current.holder.kind === "user" || (current.holder.kind === "role" && current.holder.name === PUBLIC_ROLE)) continue;
    for (const grantee of grantees.get(holderKey(current.holder)) ?? []) {
      const key = holderKey(grantee);
      if (seen.has(key)) continue;
      const next = { holder: grantee, chain: [grantee, ...current.chain] };
      seen.set(key, next);
      queue.push(next);
    }
  }
  return [...seen.values()];
}

const display = (h: Holder): string => (h.kind === "database role" ? `DATABASE ROLE ${h.name}` : h.name);

export function classifySnowflakeCatalog(catalog: SnowflakeCatalog, boundary: Boundary, options: SnowflakeAuditOptions): SnowflakeLiveAudit {
  const admins = new Map<string, string>();
  for (const role of SYSTEM_ADMIN_ROLES) admins.set(role, "system administrator role");
  admins.set(options.adminRole, "adminRole (roll-ups)");
  admins.set(options.provisionerRole, options.provisionerRole === options.adminRole ? "provisioner role, adminRole" : "provisioner role");

  const grantees = new Map<string, Holder[]>();
  for (const g of catalog.roleGrants) {
    const key = holderKey(g.role);
    grantees.set(key, [...(grantees.get(key) ?? []), g.grantee]);
  }
  const secondaryAll = new Set(catalog.users.filter((u) => /"?ALL"?/i.test(u.defaultSecondaryRoles)).map((u) => u.name));
  const chains = declaredChains(boundary);
  const anyProd = new Set([...chains.values()].flatMap((set) => [...set]));
  const declared = new Map(boundary.schemas.filter((s) => s.kind === "prod").map((s) => [snowflakeName(s.name), s]));

  // The stack's roles reach a system role only by its roll-ups to adminRole; any other system role holding one was granted it by hand.
  const stackRoles = new Set([...boundary.roles.map((r) => snowflakeName(r.name)), options.adminRole, options.provisionerRole]);
  const isSystem = (h: Holder | undefined): boolean => h?.kind === "role" && SYSTEM_ADMIN_ROLES.includes(h.name);
  // The system roles' own hierarchy (ACCOUNTADMIN holds SYSADMIN) widens nothing; a system role that is adminRole rolls up.
  const widens = (holder: Holder, held: Holder | undefined): boolean =>
    isSystem(holder) && !stackRoles.has(holder.name) && held?.kind === "role" && stackRoles.has(held.name) && !isSystem(held);
  const classify = (chain: Holder[], power: SnowflakePower, schema: string): Pick<SnowflakeWritePath, "status" | "because"> => {
    const at = chain.findIndex((h) => h.kind === "role" && admins.has(h.name));
    // chain[i] holds chain[i + 1].
    const i = at < 0 ? -1 : chain.findIndex((h, i) => i >= at && widens(h, chain[i + 1]));
    if (i >= 0) return { status: "drift", because: `${chain[i]!.name} holds ${chain[i + 1]!.name}, which the stack grants to no system role: every ${chain[i]!.name} holder gains it` };
    const admin = chain[at];
    if (admin) return { status: "admin", because: `${admin.name} (${admins.get(admin.name)!})` };
    if (chain.some((h) => h.kind === "role" && h.name === PUBLIC_ROLE)) return { status: "drift", because: "PUBLIC holds it: every user can" };
    if (NEVER_DECLARED.has(power)) return { status: "drift", because: `${power} is never declared` };
    const allowed = chains.get(schema) ?? anyProd;
    if (allowed.has(chainKey(chain.map(holderKey)))) return { status: "declared", because: "declared chain" };
    return { status: "drift", because: "not in the boundary" };
  };

  const reached = new Map<string, Reached[]>();
  const bySchema = new Map<string, SnowflakeWritePath[]>();
  for (const power of catalog.powers) {
    const key = holderKey(power.holder);
    if (!reached.has(key)) reached.set(key, reachersOf(power.holder, grantees));
    for (const { holder, chain } of reached.get(key)!) {
      const everyone = holder.kind === "role" && holder.name === PUBLIC_ROLE;
      const reach: SnowflakeWritePath["reach"] =
        chain.length === 1 ? "self" : holder.kind !== "user" ? "inherits" : secondaryAll.has(holder.name) ? "secondary roles" : "USE ROLE";
      const path: SnowflakeWritePath = {
        principal: everyone ? PUBLIC_ROLE : display(holder),
        principalKind: everyone ? "everyone" : holder.kind,
        schema: power.schema,
        power: power.power,
        privilege: power.privilege,
        objects: power.objects,
        objectCount: power.objectCount,
        source: power.source,
        chain: chain.map(display),
        reach,
        ...classify(chain, power.power, power.schema),
      };
      bySchema.set(power.schema, [...(bySchema.get(power.schema) ?? []), path]);
    }
  }

  const present = new Set(catalog.prodSchemas.map((s) => s.schema));
  const schemas = catalog.prodSchemas.map((s): SnowflakeSchemaWriters => {
    const d = declared.get(s.schema);
    return {
      schema: s.schema,
      declared: d !== undefined,
      ...(d === undefined ? {} : { domain: d.domain, restricted: d.restricted }),
      owner: display(s.owner),
      managedAccess: s.managedAccess,
      writers: bySchema.get(s.schema) ?? [],
    };
  });
  const missingSchemas = [...declared.keys()].filter((name) => !present.has(name)).sort();
  const undeclaredSchemas = schemas.filter((s) => !s.declared).map((s) => s.schema);
  const unmanagedSchemas = schemas.filter((s) => s.declared && !s.managedAccess).map((s) => s.schema);
  const driftPaths = schemas.reduce((n, s) => n + s.writers.filter((w) => w.status === "drift").length, 0);
  return {
    source: "live",
    platform: "snowflake",
    database: catalog.database,
    adminRole: options.adminRole,
    provisionerRole: options.provisionerRole,
    adminRoles: [...admins.keys()],
    statements: catalog.statements.length,
    statementFormula: statementFormula(catalog.prodSchemas.length),
    freshness: FRESHNESS,
    schemas,
    missingSchemas,
    undeclaredSchemas,
    unmanagedSchemas,
    drift: driftPaths + missingSchemas.length + undeclaredSchemas.length + unmanagedSchemas.length,
  };
}

/** Reads the account (2S + 7 statements) and judges every write path against the boundary. */
export async function auditSnowflakeLive(session: SnowflakeSession, boundary: Boundary, database: string, options: SnowflakeAuditOptions): Promise<SnowflakeLiveAudit> {
  return classifySnowflakeCatalog(await readSnowflakeCatalog(session, database), boundary, options);
}
