// Snowflake resources judged one at a time, by Snowflake's meaning of each privilege (the same privilege sets the
// interpreter and the audit use) and the prod_ naming contract, never by the logical names our program gives them.

import { PROD_WRITER, snowflakeName } from "../infra/roster/naming";
import { identifierParts, objectName } from "../infra/platforms/snowflake/identifiers";
import { SNOWFLAKE_TYPES } from "../infra/platforms/snowflake/interpret";
import { OBJECT_WRITE_PRIVILEGES, isSchemaWrite } from "../infra/platforms/snowflake/privileges";
import { RULES, WRITE_PATH, isProdSchema, list, record, strings, text, upper, violation, type Resource } from "./facts";

export const SF_TYPES = {
  ...SNOWFLAKE_TYPES,
  grantPrivilegesToDatabaseRole: "snowflake:index/grantPrivilegesToDatabaseRole:GrantPrivilegesToDatabaseRole",
} as const;

export const SF_WRITER = snowflakeName(PROD_WRITER);
const SF_PUBLIC = "PUBLIC";

/** Roles that administer the account; custom roles roll up to them, so they are the admin path and not a D2 breach. */
const SYSTEM_ADMIN_ROLES = ["ACCOUNTADMIN", "SYSADMIN"];

/** The provisioner's role (the provider's `role`, config snowflake:role) owns what `pulumi up` creates. */
export const provisionerRole = (r: Pick<Resource, "provider">): string | undefined => {
  const role = text(r.provider?.role);
  return role === undefined ? undefined : objectName(role);
};
export const adminRoles = (r: Pick<Resource, "provider">): Set<string> =>
  new Set([...SYSTEM_ADMIN_ROLES, ...[provisionerRole(r)].filter((x): x is string => x !== undefined)]);

const prodIn = (qualified: string | undefined): boolean => isProdSchema(qualified === undefined ? undefined : identifierParts(qualified)[1]);

/** One place a privilege grant applies: a schema, or objects; whether it reaches a prod schema; how to say it. */
interface Scope {
  level: "schema" | "objects";
  /** For objects: TABLE, TABLES, PROCEDURE(S), ... */
  kind: string;
  where: string;
  reachesProd: boolean;
}

/** The scopes of a GrantPrivilegesTo{Account,Database}Role. Database-wide scopes reach prod schemas too. */
function scopesOf(p: Record<string, unknown>): Scope[] {
  const scopes: Scope[] = [];
  const onSchema = record(p.onSchema);
  if (onSchema) {
    const schema = text(onSchema.schemaName);
    const all = text(onSchema.allSchemasInDatabase);
    const future = text(onSchema.futureSchemasInDatabase);
    if (schema) scopes.push({ level: "schema", kind: "SCHEMA", where: `schema ${schema}`, reachesProd: prodIn(schema) });
    if (all) scopes.push({ level: "schema", kind: "SCHEMA", where: `all schemas in database ${all} (prod ones included)`, reachesProd: true });
    if (future) scopes.push({ level: "schema", kind: "SCHEMA", where: `future schemas in database ${future} (prod ones included)`, reachesProd: true });
  }
  const onObject = record(p.onSchemaObject);
  if (onObject) {
    const single = text(onObject.objectName);
    const kind = text(onObject.objectType)?.toUpperCase() ?? "OBJECT";
    if (single) scopes.push({ level: "objects", kind, where: `${kind} ${single}`, reachesProd: prodIn(single) });
    for (const scope of ["all", "future"] as const) {
      const bulk = record(onObject[scope]);
      if (!bulk) continue;
      const plural = text(bulk.objectTypePlural)?.toUpperCase() ?? "OBJECTS";
      const inSchema = text(bulk.inSchema);
      const inDatabase = text(bulk.inDatabase);
      // A database-level future grant is ignored only where a schema-level one for the same kind exists; the pack does not rely on that.
      if (inSchema) scopes.push({ level: "objects", kind: plural, where: `${scope} ${plural} in schema ${inSchema}`, reachesProd: prodIn(inSchema) });
      else if (inDatabase) scopes.push({ level: "objects", kind: plural, where: `${scope} ${plural} in database ${inDatabase} (prod schemas included)`, reachesProd: true });
    }
  }
  return scopes;
}

/** Privileges that write at a scope: CREATE/MODIFY/OWNERSHIP/ALL on a schema; DML, OWNERSHIP, OPERATE, stage WRITE on objects. */
function writesAt(scope: Scope, privileges: readonly string[]): string[] {
  if (scope.level === "schema") return privileges.filter((p) => isSchemaWrite(p) || p === "ADD SEARCH OPTIMIZATION");
  // Procedures run with their owner's rights by default: USAGE on a prod procedure writes as prod_writer.
  const runsAsOwner = scope.kind.startsWith("PROCEDURE");
  return privileges.filter((p) => OBJECT_WRITE_PRIVILEGES.has(p) || p === "WRITE" || (runsAsOwner && p === "USAGE"));
}

const privilegesOf = (p: Record<string, unknown>): string[] => (p.allPrivileges === true ? ["ALL PRIVILEGES"] : upper(strings(p.privileges)));

const readInstead = (grantee: string): string =>
  `give ${grantee} read only (USAGE on the schema, SELECT on its tables and views) or nothing; ${WRITE_PATH}`;

/** D1 on one Snowflake resource: a privilege, ownership or account-wide grant that writes to prod. */
export function snowflakeProdWrites(r: Resource): string[] {
  const found: string[] = [];
  const p = r.props;
  const admins = adminRoles(r);
  if (r.type === SF_TYPES.grantPrivileges || r.type === SF_TYPES.grantPrivilegesToDatabaseRole) {
    const accountRole = r.type === SF_TYPES.grantPrivileges;
    const identifier = text(accountRole ? p.accountRoleName : p.databaseRoleName) ?? "?";
    const role = objectName(identifier);
    const grantee = accountRole ? `role ${role}` : `database role ${identifier}`;
    if (accountRole && role.toUpperCase() === SF_PUBLIC) return found;
    const privileges = privilegesOf(p);
    for (const scope of scopesOf(p).filter((s) => s.reachesProd)) {
      const writes = writesAt(scope, privileges);
      // Only the account role PROD_WRITER writes; a database role never is it.
      if (writes.length > 0 && !(accountRole && role === SF_WRITER))
        found.push(violation(r, RULES.D1, `it grants ${list(writes)} on ${scope.where} to ${grantee}`, readInstead(grantee)));
      if (p.withGrantOption === true && privileges.length > 0)
        found.push(violation(r, RULES.D1, `it grants ${list(privileges)} on ${scope.where} to ${grantee} WITH GRANT OPTION, so ${grantee} can hand them to anyone`, "set withGrantOption to false; in a managed-access schema only its owner grants"));
    }
    // MANAGE GRANTS lets a role grant itself anything, prod schemas included.
    const accountWide = privileges.filter((x) => x === "MANAGE GRANTS" || x === "ALL" || x === "ALL PRIVILEGES");
    if (p.onAccount === true && accountWide.length > 0 && !(accountRole && admins.has(role)))
      found.push(violation(r, RULES.D1, `it grants ${list(accountWide)} on the account to ${grantee}, which lets it grant itself write on every prod schema`, `delete this grant; only the admin roles (${list([...admins])}) manage grants`));
  } else if (r.type === SF_TYPES.grantOwnership) {
    const accountRole = text(p.accountRoleName);
    const identifier = accountRole ?? text(p.databaseRoleName) ?? "?";
    const owner = objectName(identifier);
    const grantee = accountRole ? `role ${owner}` : `database role ${identifier}`;
    const isAdmin = accountRole !== undefined && admins.has(owner);
    const isWriter = accountRole !== undefined && owner === SF_WRITER;
    for (const target of ownershipTargets(record(p.on) ?? {})) {
      // The provisioner keeps prod schemas: their owner could drop them and, managed access or not, grant anything in them.
      const allowed = target.what === "schemas" || target.what === "database" ? isAdmin : isAdmin || isWriter;
      if (!allowed)
        found.push(violation(r, RULES.D1, `it makes ${grantee} the owner of ${target.where}, and an owner can ${target.what === "objects" ? "change, drop and grant them" : "drop it and everything in it"}`, target.what === "objects" ? `leave objects in prod schemas owned by ${SF_WRITER}, which creates them; ${WRITE_PATH}` : "leave prod schemas and their database owned by the provisioner's role"));
    }
  }
  return found;
}

interface OwnershipTarget {
  what: "schemas" | "objects" | "database";
  where: string;
}

/** What a GrantOwnership's `on` hands over that lies in, or contains, prod schemas. */
function ownershipTargets(on: Record<string, unknown>): OwnershipTarget[] {
  const targets: OwnershipTarget[] = [];
  const type = text(on.objectType)?.toUpperCase();
  const name = text(on.objectName);
  if (type === "DATABASE" && name) targets.push({ what: "database", where: `database ${name} (its prod schemas included)` });
  else if (type === "SCHEMA" && name && prodIn(name)) targets.push({ what: "schemas", where: `prod schema ${name}` });
  else if (type !== undefined && type !== "ROLE" && type !== "USER" && type !== "WAREHOUSE" && name && prodIn(name))
    targets.push({ what: "objects", where: `${type} ${name}` });
  for (const scope of ["all", "future"] as const) {
    const bulk = record(on[scope]);
    if (!bulk) continue;
    const plural = text(bulk.objectTypePlural)?.toUpperCase() ?? "OBJECTS";
    const inSchema = text(bulk.inSchema);
    const inDatabase = text(bulk.inDatabase);
    const what = plural === "SCHEMAS" ? "schemas" : "objects";
    if (inSchema && prodIn(inSchema)) targets.push({ what, where: `${scope} ${plural} in schema ${inSchema}` });
    else if (inDatabase) targets.push({ what, where: `${scope} ${plural} in database ${inDatabase} (prod schemas included)` });
  }
  return targets;
}

/** D3 on one Snowflake resource: a grant to PUBLIC that reaches a prod schema, or a prod role handed to PUBLIC. */
export function snowflakePublicOnProd(r: Resource): string[] {
  const found: string[] = [];
  const p = r.props;
  if (r.type === SF_TYPES.grantPrivileges && objectName(text(p.accountRoleName) ?? "").toUpperCase() === SF_PUBLIC) {
    const privileges = privilegesOf(p);
    for (const scope of scopesOf(p).filter((s) => s.reachesProd && privileges.length > 0))
      found.push(violation(r, RULES.D3, `it grants ${list(privileges)} on ${scope.where} to PUBLIC, which every user and role holds`, "delete this grant; readers get read through PROD_READER or a restricted reader role"));
  } else if (r.type === SF_TYPES.grantAccountRole && objectName(text(p.parentRoleName) ?? "").toUpperCase() === SF_PUBLIC) {
    const role = objectName(text(p.roleName) ?? "?");
    // Roles named prod_... carry prod access by the naming contract (PROD_WRITER, PROD_READER, PROD_<domain>_READER).
    if (isProdSchema(role))
      found.push(violation(r, RULES.D3, `it grants role ${role} to PUBLIC, so every user holds what ${role} holds on prod schemas`, `grant ${role} to the roles or users that need it`));
  }
  return found;
}

/** D2 on one Snowflake resource: PROD_WRITER handed to a role, owned by a role, or made a person's default. */
export function snowflakeProdWriterHolders(r: Resource): string[] {
  const found: string[] = [];
  const p = r.props;
  const admins = adminRoles(r);
  if (r.type === SF_TYPES.grantAccountRole && objectName(text(p.roleName) ?? "") === SF_WRITER) {
    const parent = text(p.parentRoleName);
    if (parent !== undefined && !admins.has(objectName(parent)))
      found.push(violation(r, RULES.D2, `it grants ${SF_WRITER} to role ${objectName(parent)}, so every holder of ${objectName(parent)} writes prod schemas`, `grant ${SF_WRITER} only to a \`purpose: prod\` service user (TYPE=SERVICE), or to the admin role (${list([...admins])})`));
  } else if (r.type === SF_TYPES.grantOwnership) {
    const on = record(p.on) ?? {};
    const owner = objectName(text(p.accountRoleName) ?? text(p.databaseRoleName) ?? "?");
    // A role's owner can grant it, to itself first.
    if (text(on.objectType)?.toUpperCase() === "ROLE" && objectName(text(on.objectName) ?? "") === SF_WRITER && !admins.has(owner))
      found.push(violation(r, RULES.D2, `it makes ${owner} the owner of ${SF_WRITER}, and a role's owner can grant it to anyone, itself first`, `leave ${SF_WRITER} owned by the provisioner's role`));
  } else if ((r.type === SF_TYPES.user || r.type === SF_TYPES.legacyServiceUser) && objectName(text(p.defaultRole) ?? "") === SF_WRITER) {
    const kind = r.type === SF_TYPES.user ? "a person (TYPE=PERSON)" : "a legacy service user, which may use a password";
    found.push(violation(r, RULES.D2, `user ${text(p.name) ?? r.name} is ${kind} and starts its sessions as ${SF_WRITER}`, `use a snowflake.ServiceUser (TYPE=SERVICE, key pair only) for the \`purpose: prod\` account, and give people another default role`));
  }
  return found;
}

/** D7 on one Snowflake resource: a service user with a password. */
export function snowflakePasswordServiceUsers(r: Resource): string[] {
  if (r.type !== SF_TYPES.legacyServiceUser || text(r.props.password) === undefined) return [];
  return [violation(r, RULES.D7keys, `legacy service user ${text(r.props.name) ?? r.name} has a password`, "make it a snowflake.ServiceUser (TYPE=SERVICE) with rsaPublicKey and the key-pair-only authentication policy, and drop the password")];
}

/** D6 and D7 on one Snowflake schema resource. */
export function snowflakeUnprotectedProdSchema(r: Resource): string[] {
  if (r.type !== SF_TYPES.schema) return [];
  const name = text(r.props.name) ?? r.name;
  return isProdSchema(name) && !r.protect
    ? [violation(r, RULES.D6, `prod schema ${name} is not protected, so pulumi up would drop it (and its data) once the resource leaves the program`, "register it with the resource option { protect: true }")]
    : [];
}

export function snowflakeUnmanagedProdSchema(r: Resource): string[] {
  if (r.type !== SF_TYPES.schema) return [];
  const name = text(r.props.name) ?? r.name;
  const managed = r.props.withManagedAccess;
  return isProdSchema(name) && !(managed === true || (typeof managed === "string" && managed.toLowerCase() === "true"))
    ? [violation(r, RULES.D7managed, `prod schema ${name} is not managed access (withManagedAccess is ${JSON.stringify(managed ?? null)}), so the owner of each object in it could grant on it`, 'set withManagedAccess: "true" (the string, as provider 1.x takes it)')]
    : [];
}
