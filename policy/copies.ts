// D5 on the whole stack: a restricted domain's developer copies stay with its readers. A domain is restricted when the
// stack has its reader role (prod_<domain>_reader, by the naming contract); its copies are the <dev>_<domain> schemas.
// Nobody may own one but the provisioner (an owner can grant USAGE on it to anyone), and nobody but the developer's
// role may be granted anything on it; on Snowflake it is managed access, so the owners of the objects in it cannot
// grant them onward either.

import { identifierParts } from "../infra/platforms/snowflake/identifiers";
import { CI_SCHEMA_PREFIX, PROD_SCHEMA_PREFIX, developerRoleName, snowflakeName } from "../infra/roster/naming";
import { RULES, list, record, strings, text, upper, violation, type Resource } from "./facts";
import { POSTGRES_TYPES as PG } from "./postgres";
import { SF_TYPES as SF } from "./snowflake";

/** A schema copying a restricted domain, and the one role that may use it. */
interface Copy {
  schema: string;
  domain: string;
  user: string;
}

const READER = /^prod_([a-z][a-z0-9_]*)_reader$/;
const DEVELOPER_SCHEMA = /^([a-z][a-z0-9]*)_([a-z][a-z0-9_]*)$/;

/** The developer copy a schema name is, for the restricted domains given; undefined for any other schema. */
function copyOf(name: string, restricted: ReadonlySet<string>): Copy | undefined {
  const lower = name.toLowerCase();
  const match = DEVELOPER_SCHEMA.exec(lower);
  if (!match || lower.startsWith(PROD_SCHEMA_PREFIX) || lower.startsWith(CI_SCHEMA_PREFIX) || !restricted.has(match[2]!)) return undefined;
  return { schema: lower, domain: match[2]!, user: developerRoleName(match[1]!) };
}

const fix = (c: Copy): string =>
  `leave ${c.schema} to the provisioner and grant ${c.user} USAGE and CREATE on it, nothing to anyone else; to let someone else read the domain, add them to its readers in team.yaml`;

function postgresCopies(resources: readonly Resource[]): string[] {
  const restricted = new Set(resources.filter((r) => r.type === PG.role).map((r) => READER.exec(text(r.props.name) ?? "")?.[1]).filter((d): d is string => d !== undefined));
  if (restricted.size === 0) return [];
  const found: string[] = [];
  for (const r of resources) {
    if (r.type === PG.schema) {
      const copy = copyOf(text(r.props.name) ?? r.name, restricted);
      const owner = text(r.props.owner);
      const provisioner = text(r.provider?.username);
      if (copy && owner !== undefined && owner !== provisioner)
        found.push(violation(r, RULES.D5, `it makes ${owner} the owner of ${copy.schema}, a developer copy of restricted domain ${copy.domain}; an owner can grant USAGE on it, and so what it holds, to anyone`, fix(copy)));
    }
    if (r.type === PG.grant || r.type === PG.defaultPrivileges) {
      const copy = copyOf(text(r.props.schema) ?? "", restricted);
      const role = text(r.props.role) ?? "";
      const privileges = upper(strings(r.props.privileges));
      if (copy === undefined || privileges.length === 0) continue;
      if (role !== copy.user)
        found.push(violation(r, RULES.D5, `it grants ${list(privileges)} in ${copy.schema}, a developer copy of restricted domain ${copy.domain}, to ${role}, which is not its developer's role`, fix(copy)));
      else if (r.props.withGrantOption === true)
        found.push(violation(r, RULES.D5, `it lets ${role} grant ${list(privileges)} in ${copy.schema}, a developer copy of restricted domain ${copy.domain}, onward`, fix(copy)));
    }
  }
  return found;
}

/** The schema (upper case) a Snowflake grant or ownership applies to, when it names one. */
function snowflakeSchemaOf(p: Record<string, unknown>): string | undefined {
  const qualified = text(record(p.onSchema)?.schemaName)
    ?? text(record(record(p.onSchemaObject)?.all)?.inSchema) ?? text(record(record(p.onSchemaObject)?.future)?.inSchema)
    ?? text(record(p.on)?.objectName) ?? text(record(record(p.on)?.all)?.inSchema) ?? text(record(record(p.on)?.future)?.inSchema);
  const single = text(record(p.onSchemaObject)?.objectName);
  const parts = qualified !== undefined ? identifierParts(qualified) : single !== undefined ? identifierParts(single).slice(0, 2) : [];
  return parts[1]?.toUpperCase();
}

function snowflakeCopies(resources: readonly Resource[]): string[] {
  const restricted = new Set(resources.filter((r) => r.type === SF.accountRole)
    .map((r) => READER.exec((text(r.props.name) ?? "").toLowerCase())?.[1]).filter((d): d is string => d !== undefined));
  if (restricted.size === 0) return [];
  const found: string[] = [];
  const upperFix = (c: Copy) => fix({ ...c, schema: snowflakeName(c.schema), user: snowflakeName(c.user) });
  for (const r of resources) {
    if (r.type === SF.schema) {
      const copy = copyOf(text(r.props.name) ?? r.name, restricted);
      const managed = r.props.withManagedAccess;
      if (copy && !(managed === true || (typeof managed === "string" && managed.toLowerCase() === "true")))
        found.push(violation(r, RULES.D5, `${snowflakeName(copy.schema)}, a developer copy of restricted domain ${copy.domain}, is not managed access, so the owner of each table or view in it could grant it to anyone`, `set withManagedAccess: "true"; ${upperFix(copy)}`));
    }
    const grantee = r.type === SF.grantOwnership || r.type === SF.grantPrivileges ? text(r.props.accountRoleName) : undefined;
    if (grantee === undefined) continue;
    const schema = snowflakeSchemaOf(r.props);
    const copy = schema === undefined ? undefined : copyOf(schema, restricted);
    if (copy === undefined) continue;
    const role = identifierParts(grantee).at(-1) ?? grantee;
    if (r.type === SF.grantOwnership)
      found.push(violation(r, RULES.D5, `it hands ownership in ${snowflakeName(copy.schema)}, a developer copy of restricted domain ${copy.domain}, to ${role}; an owner can grant it onward`, upperFix(copy)));
    else if (role !== snowflakeName(copy.user) || r.props.withGrantOption === true)
      found.push(violation(r, RULES.D5, `it grants ${list(upper(strings(r.props.privileges)))} in ${snowflakeName(copy.schema)}, a developer copy of restricted domain ${copy.domain}, to ${role}${r.props.withGrantOption === true ? " with grant option" : ", which is not its developer's role"}`, upperFix(copy)));
  }
  return found;
}

/** D5 on every resource of the stack, both platforms. */
export function restrictedCopiesStayWithReaders(resources: readonly Resource[]): string[] {
  return [...postgresCopies(resources), ...snowflakeCopies(resources)];
}
