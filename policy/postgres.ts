// PostgreSQL resources judged one at a time, by PostgreSQL's meaning of each privilege and the prod_ naming contract,
// never by the logical names our program gives its resources: a hand-written grant is judged like a generated one.

import { POSTGRES_UNSEEN_WRITE_PRIVILEGES } from "../infra/platforms/postgres/privileges";
import { CI_BUILDER, PROD_WRITER } from "../infra/roster/naming";
import { RULES, WRITE_PATH, isProdSchema, list, record, strings, text, upper, violation, type Resource } from "./facts";

export const POSTGRES_TYPES = {
  role: "postgresql:index/role:Role",
  grantRole: "postgresql:index/grantRole:GrantRole",
  grant: "postgresql:index/grant:Grant",
  defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
  schema: "postgresql:index/schema:Schema",
} as const;

/** pg_write_all_data writes every table of every schema (PostgreSQL 14+). */
const WRITE_ALL_ROLE = "pg_write_all_data";

const isPublic = (role: string | undefined): boolean => role?.toLowerCase() === "public";
/** Developer roles (dev_<name>) and the CI role, by the naming contract: their holders are people and CI, not production. */
export const isDeveloperOrCiRole = (role: string): boolean => role.startsWith("dev_") || role === CI_BUILDER;

interface GrantScope {
  objectType: string;
  schema: string;
  privileges: string[];
  role: string;
  withGrantOption: boolean;
  /** "all tables in schema prod_sales", "tables orders in schema prod_sales", "schema prod_sales". */
  where: string;
}

function grantScope(r: Resource): GrantScope | undefined {
  const p = r.props;
  const objectType = text(p.objectType)?.toLowerCase();
  const schema = text(p.schema);
  const role = text(p.role);
  if (objectType === undefined || role === undefined || schema === undefined) return undefined;
  const objects = strings(p.objects);
  const columns = strings(p.columns);
  const where =
    objectType === "schema" ? `schema ${schema}`
    : objectType === "column" ? `columns ${list(columns)} of ${list(objects)} in schema ${schema}`
    : objects.length === 0 ? `all ${objectType}s in schema ${schema}`
    : `${objectType}s ${list(objects)} in schema ${schema}`;
  return { objectType, schema, privileges: upper(strings(p.privileges)), role, withGrantOption: p.withGrantOption === true, where };
}

const writesIn = (objectType: string, privileges: readonly string[]): string[] =>
  privileges.filter((p) => POSTGRES_UNSEEN_WRITE_PRIVILEGES[objectType]?.includes(p) ?? false);

const readInstead = (role: string): string =>
  `give ${role} read only (USAGE on the schema, SELECT on its tables) or nothing; ${WRITE_PATH}`;

/** D1 on one PostgreSQL resource: a grant, default privilege, owner or role attribute that writes to prod. */
export function postgresProdWrites(r: Resource): string[] {
  const found: string[] = [];
  const p = r.props;
  if (r.type === POSTGRES_TYPES.grant) {
    const g = grantScope(r);
    if (!g || !isProdSchema(g.schema) || isPublic(g.role)) return found;
    const writes = writesIn(g.objectType, g.privileges);
    if (writes.length > 0 && g.role !== PROD_WRITER)
      found.push(violation(r, RULES.D1, `it grants ${list(writes)} on ${g.where} to ${g.role}`, readInstead(g.role)));
    if (g.withGrantOption && g.privileges.length > 0)
      found.push(violation(r, RULES.D1, `it grants ${list(g.privileges)} on ${g.where} to ${g.role} WITH GRANT OPTION, so ${g.role} can hand them to anyone`, "set withGrantOption to false; only the provisioner grants on prod schemas"));
  } else if (r.type === POSTGRES_TYPES.defaultPrivileges) {
    const role = text(p.role);
    const owner = text(p.owner) ?? "?";
    const objectType = text(p.objectType)?.toLowerCase() ?? "";
    const schema = text(p.schema);
    const privileges = upper(strings(p.privileges));
    const where = defaultPrivilegesReach(objectType, schema, owner);
    if (role === undefined || where === undefined || isPublic(role)) return found;
    const writes = writesIn(objectType, privileges);
    if (writes.length > 0 && role !== PROD_WRITER)
      found.push(violation(r, RULES.D1, `it grants ${list(writes)} on ${where} to ${role} by default privileges`, readInstead(role)));
    if (p.withGrantOption === true && privileges.length > 0)
      found.push(violation(r, RULES.D1, `it grants ${list(privileges)} on ${where} to ${role} WITH GRANT OPTION, so ${role} can hand them to anyone`, "set withGrantOption to false"));
  } else if (r.type === POSTGRES_TYPES.schema) {
    const name = text(p.name) ?? r.name;
    if (!isProdSchema(name)) return found;
    const owner = text(p.owner);
    const provisioner = text(r.provider?.username);
    if (owner !== undefined && owner !== PROD_WRITER && owner !== provisioner)
      found.push(violation(r, RULES.D1, `it makes ${owner} the owner of prod schema ${name}, and an owner can create, alter, drop and grant anything in it`, `make ${PROD_WRITER} its owner (the program does) or leave owner unset; ${WRITE_PATH}`));
    for (const policy of schemaPolicies(r)) {
      if (isPublic(policy.role)) continue;
      if ((policy.create || policy.createWithGrant) && policy.role !== PROD_WRITER)
        found.push(violation(r, RULES.D1, `its policies give ${policy.role} CREATE on prod schema ${name}`, readInstead(policy.role)));
      if (policy.createWithGrant || policy.usageWithGrant)
        found.push(violation(r, RULES.D1, `its policies give ${policy.role} privileges on prod schema ${name} WITH GRANT OPTION, so ${policy.role} can hand them to anyone`, "drop createWithGrant and usageWithGrant; grant with postgresql.Grant resources instead"));
    }
  } else if (r.type === POSTGRES_TYPES.role) {
    const name = text(p.name) ?? r.name;
    if (p.superuser === true)
      found.push(violation(r, RULES.D1, `it makes ${name} a superuser, and a superuser writes everywhere, prod schemas included`, `set superuser to false; ${WRITE_PATH}`));
    if (strings(p.roles).includes(WRITE_ALL_ROLE))
      found.push(violation(r, RULES.D1, `it makes ${name} a member of ${WRITE_ALL_ROLE}, which writes every table, prod schemas included`, `remove ${WRITE_ALL_ROLE} from its roles; ${WRITE_PATH}`));
  } else if (r.type === POSTGRES_TYPES.grantRole) {
    const member = text(p.role) ?? "?";
    if (text(p.grantRole) === WRITE_ALL_ROLE)
      found.push(violation(r, RULES.D1, `it makes ${member} a member of ${WRITE_ALL_ROLE}, which writes every table, prod schemas included`, `delete this grant; ${WRITE_PATH}`));
  }
  return found;
}

/** Where default privileges reach prod: in a prod schema, database-wide for objects prod_writer creates, or on future schemas. */
function defaultPrivilegesReach(objectType: string, schema: string | undefined, owner: string): string | undefined {
  // Future schemas include future prod_ schemas, whoever creates them.
  if (objectType === "schema") return `schemas ${owner} creates from now on (prod_ ones included)`;
  if (schema !== undefined) return isProdSchema(schema) ? `${objectType}s ${owner} creates in prod schema ${schema} from now on` : undefined;
  // Without a schema they apply in every schema, and prod_writer is the role that creates objects in prod schemas.
  return owner === PROD_WRITER ? `${objectType}s ${owner} creates in any schema from now on (prod_ ones included)` : undefined;
}

interface SchemaPolicy {
  role: string;
  create: boolean;
  createWithGrant: boolean;
  usage: boolean;
  usageWithGrant: boolean;
}

const schemaPolicies = (r: Resource): SchemaPolicy[] =>
  (Array.isArray(r.props.policies) ? r.props.policies : []).map(record).filter((x) => x !== undefined).map((x) => ({
    role: text(x.role) ?? "public",
    create: x.create === true,
    createWithGrant: x.createWithGrant === true,
    usage: x.usage === true,
    usageWithGrant: x.usageWithGrant === true,
  }));

/** D3 on one PostgreSQL resource: anything but an empty privilege list for PUBLIC on a prod schema or its objects. */
export function postgresPublicOnProd(r: Resource): string[] {
  const found: string[] = [];
  const fix = "set privileges to [] (that is how PUBLIC is denied), or delete the resource; readers get read through prod_reader or a restricted reader role";
  if (r.type === POSTGRES_TYPES.grant) {
    const g = grantScope(r);
    if (g && isPublic(g.role) && isProdSchema(g.schema) && g.privileges.length > 0)
      found.push(violation(r, RULES.D3, `it grants ${list(g.privileges)} on ${g.where} to PUBLIC, that is to every role`, fix));
  } else if (r.type === POSTGRES_TYPES.defaultPrivileges) {
    const privileges = upper(strings(r.props.privileges));
    const where = defaultPrivilegesReach(text(r.props.objectType)?.toLowerCase() ?? "", text(r.props.schema), text(r.props.owner) ?? "?");
    if (isPublic(text(r.props.role)) && where !== undefined && privileges.length > 0)
      found.push(violation(r, RULES.D3, `it grants ${list(privileges)} on ${where} to PUBLIC by default privileges`, fix));
  } else if (r.type === POSTGRES_TYPES.schema) {
    const name = text(r.props.name) ?? r.name;
    if (!isProdSchema(name)) return found;
    for (const policy of schemaPolicies(r).filter((x) => isPublic(x.role)))
      if (policy.usage || policy.create || policy.usageWithGrant || policy.createWithGrant)
        found.push(violation(r, RULES.D3, `its policies give PUBLIC ${policy.create || policy.createWithGrant ? "CREATE" : "USAGE"} on prod schema ${name}`, "remove the PUBLIC entry from policies"));
  }
  return found;
}

// No password rule for PostgreSQL: whether a login may use one is pg_hba.conf's decision, which no resource shows (D7 is Snowflake's).

/** D2 on one PostgreSQL resource: who a role says it is, next to prod_writer in its memberships. */
export function postgresProdWriterHolders(r: Resource): string[] {
  const found: string[] = [];
  const p = r.props;
  if (r.type === POSTGRES_TYPES.role) {
    const name = text(p.name) ?? r.name;
    const roles = strings(p.roles);
    if (roles.includes(PROD_WRITER)) {
      if (p.login !== true)
        found.push(violation(r, RULES.D2, `it makes group role ${name} a member of ${PROD_WRITER}, so every member of ${name} would write prod schemas`, `remove ${PROD_WRITER} from its roles; only the login role of a \`purpose: prod\` service account holds it`));
      const personal = roles.filter(isDeveloperOrCiRole);
      if (p.login === true && personal.length > 0)
        found.push(violation(r, RULES.D2, `login ${name} holds ${PROD_WRITER} but is a developer or CI account (it holds ${list(personal)})`, `remove ${PROD_WRITER} from its roles; ${WRITE_PATH}`));
    }
    // Before PostgreSQL 16, CREATEROLE can grant any non-superuser role, prod_writer included, to anyone.
    if (p.createRole === true)
      found.push(violation(r, RULES.D2, `it gives ${name} CREATEROLE, which lets it grant ${PROD_WRITER} to anyone (PostgreSQL before 16)`, "set createRole to false; roles and memberships come from this stack"));
  } else if (r.type === POSTGRES_TYPES.grantRole && text(p.grantRole) === PROD_WRITER) {
    const member = text(p.role) ?? "?";
    if (p.withAdminOption === true)
      found.push(violation(r, RULES.D2, `it grants ${PROD_WRITER} to ${member} WITH ADMIN OPTION, so ${member} can grant it to anyone`, "set withAdminOption to false"));
    if (isDeveloperOrCiRole(member) || isPublic(member))
      found.push(violation(r, RULES.D2, `it grants ${PROD_WRITER} to ${member}, a developer's, CI's or everyone's role`, `delete this grant; ${WRITE_PATH}`));
  }
  return found;
}

/** D6 on one PostgreSQL resource. */
export function postgresUnprotectedProdSchema(r: Resource): string[] {
  if (r.type !== POSTGRES_TYPES.schema) return [];
  const name = text(r.props.name) ?? r.name;
  return isProdSchema(name) && !r.protect
    ? [violation(r, RULES.D6, `prod schema ${name} is not protected, so pulumi up would drop it (and its data) once the resource leaves the program`, "register it with the resource option { protect: true }")]
    : [];
}
