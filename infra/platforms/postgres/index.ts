import { CREATED_MARKER } from "../../ci/schema";
import { PROD_SCHEMA_PREFIX, PROD_WRITER } from "../../roster/naming";
import type { Boundary, Principal, Schema } from "../../boundary/model";
import { PUBLIC } from "../../boundary/model";
import { authenticationRoles, type StackSettings } from "../../stack";
import { PG } from "../kinds";
import { ResourceList, type DeclaredResource, type DeclareOptions } from "../resources";
import { takesRoleLocks } from "./lock-order";

// PostgreSQL's reading of the boundary: which SQL objects and privileges "read" and "write" become.

/** The privileges each access level means on a schema and on the tables (and views) in it. */
export const POSTGRES_PRIVILEGES = {
  read: { schema: ["USAGE"], tables: ["SELECT"] },
  write: { schema: ["USAGE", "CREATE"] },
} as const;

/** The schema every database starts with; on PostgreSQL 14 PUBLIC may create in it. */
export const PUBLIC_SCHEMA = "public";
/** What a service login's unqualified names resolve in: nothing another role can create objects in. */
export const SERVICE_SEARCH_PATH = ["pg_catalog"] as const;

/** Where the function that creates CI schemas lives. */
export const CI_FUNCTION_SCHEMA = "ci";

/**
 * ci.create_schema serializes its calls on this advisory lock, in the two-int4 key space: the provider's pgLockRole
 * takes bigint keys (role OIDs), a different space, so the two never wait for each other. "WACC" and 1.
 */
export const CI_SCHEMA_LOCK = [0x57414343, 1] as const;

/**
 * The body of ci.create_schema(run, domain): validates, creates the schema for the CI role, stamps its creation time.
 * It runs as the provisioner. PL/pgSQL resolves the DECLARE types when it compiles the function, on the first call in a
 * session and through the caller's search_path (a `text` domain in pg_temp would run the caller's code), and
 * postgresql.Function cannot declare `SET search_path`: so everything before the pin below names pg_catalog itself.
 * CREATE SCHEMA … AUTHORIZATION needs the owner to be able to SET ROLE the creator (a member before 16): the body grants
 * itself the creator for the statement and revokes what it granted, as the provider's withRolesGranted does.
 */
export function ciCreateSchemaBody(prefix: string, creator: string, restricted: CiRestrictedDomains = { copies: [], refused: [], ciAccounts: [] }): string {
  const names = [...restricted.copies, ...restricted.refused, ...restricted.ciAccounts];
  const bad = names.find((n) => !/^[a-z][a-z0-9_]*$/.test(n));
  if (bad !== undefined) throw new RangeError(`ci.create_schema: "${bad}" is not a lowercase domain or account name`);
  const sqlArray = (list: readonly string[]) => `ARRAY[${list.map((d) => `'${d}'`).join(", ")}]::pg_catalog.text[]`;
  const accounts = restricted.ciAccounts.length > 0 ? restricted.ciAccounts.join(", ") : "a `purpose: ci` service account";
  // The creation marker cleanup-ci dates a schema by, from the server's clock; both ways of creating write it.
  const stampCreated = `    EXECUTE format('COMMENT ON SCHEMA %I IS %L', schema_name,
      '${CREATED_MARKER}' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));`;
  return `
DECLARE
  caller_path pg_catalog.text := pg_catalog.current_setting('search_path');
  schema_name pg_catalog.text;
  owner_name pg_catalog.text;
  schema_comment pg_catalog.text;
  already_member pg_catalog.bool;
  is_copy pg_catalog.bool;
BEGIN
  -- From here every name resolves in pg_catalog first, never in a schema (or pg_temp) the caller controls.
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  IF run IS NULL OR domain IS NULL THEN
    RAISE EXCEPTION 'CI schemas need a run and a domain' USING ERRCODE = 'invalid_schema_name';
  END IF;
  schema_name := '${prefix}' || run || '_' || domain;
  -- No _ in a run: domains may hold one, and ${prefix}42_eu_sales would be run 42_eu's sales and run 42's eu_sales.
  IF run !~ '^[a-z0-9]+$' OR domain !~ '^[a-z][a-z0-9_]*$' OR octet_length(schema_name) > 63 THEN
    RAISE EXCEPTION 'CI schemas are ${prefix}<run>_<domain>, the run in lowercase letters and digits, the domain in lowercase letters, digits and _, at most 63 bytes: not %', schema_name
      USING ERRCODE = 'invalid_schema_name';
  END IF;
  IF to_regnamespace(quote_ident('${PROD_SCHEMA_PREFIX}' || domain)) IS NULL THEN
    RAISE EXCEPTION 'no domain %: CI schemas are made only for domains with a prod schema', domain USING ERRCODE = 'invalid_schema_name';
  END IF;
  -- A restricted domain gets a CI schema only when the roster lists CI among its readers (D5), and then as a copy.
  IF domain = ANY (${sqlArray(restricted.refused)}) THEN
    RAISE EXCEPTION 'domain % is restricted and CI is not one of its readers: add ${accounts.replace(/'/g, "''")} to the readers of % in team.yaml', domain, domain
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  is_copy := domain = ANY (${sqlArray(restricted.copies)});
  -- One call at a time: two concurrent self-grants of the creator would race on the same pg_auth_members row.
  PERFORM pg_catalog.pg_advisory_xact_lock(${CI_SCHEMA_LOCK[0]}, ${CI_SCHEMA_LOCK[1]});
  SELECT pg_get_userbyid(oid_owner.nspowner), obj_description(oid_owner.oid, 'pg_namespace') INTO owner_name, schema_comment
    FROM pg_namespace AS oid_owner WHERE oid_owner.nspname = schema_name;
  IF owner_name IS NULL AND is_copy THEN
    -- A restricted copy stays the provisioner's (this function's owner): the CI role creates in it but cannot share it.
    EXECUTE pg_catalog.format('CREATE SCHEMA %I', schema_name);
    EXECUTE pg_catalog.format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', schema_name, '${creator}');
${stampCreated}
  ELSIF owner_name IS NULL THEN
    -- withRolesGranted: isMemberOfRole (16+: a row that allows SET), grantRoleMembership, then revoke only that grant.
    IF pg_catalog.current_setting('server_version_num')::pg_catalog.int4 >= 160000 THEN
      SELECT EXISTS (SELECT FROM pg_catalog.pg_auth_members AS m WHERE m.roleid = '${creator}'::pg_catalog.regrole
                       AND m.member = current_user::pg_catalog.regrole AND m.set_option) INTO already_member;
    ELSE
      SELECT EXISTS (SELECT FROM pg_catalog.pg_auth_members AS m WHERE m.roleid = '${creator}'::pg_catalog.regrole
                       AND m.member = current_user::pg_catalog.regrole) INTO already_member;
    END IF;
    IF NOT already_member THEN
      EXECUTE pg_catalog.format('GRANT %I TO %I', '${creator}', current_user);
    END IF;
    EXECUTE pg_catalog.format('CREATE SCHEMA %I AUTHORIZATION %I', schema_name, '${creator}');
    -- COMMENT ON needs the schema's owner too: the grant is revoked after it.
${stampCreated}
    IF NOT already_member THEN
      EXECUTE pg_catalog.format('REVOKE %I FROM %I', '${creator}', current_user);
    END IF;
  ELSIF owner_name <> (CASE WHEN is_copy THEN current_user::pg_catalog.text ELSE '${creator}' END) OR coalesce(strpos(schema_comment, '${CREATED_MARKER}'), 0) = 0 THEN
    -- Only a schema this function made (owned by ${creator}, stamped) is handed back; cleanup-ci can date only those.
    RAISE EXCEPTION 'schema % exists but was not made by ci.create_schema (owner %)', schema_name, owner_name USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_catalog.set_config('search_path', caller_path, true);
  RETURN schema_name;
END`;
}

/** The restricted domains ci.create_schema knows: those it makes copies for, those it refuses, and who CI is. */
export interface CiRestrictedDomains {
  copies: readonly string[];
  refused: readonly string[];
  /** The roster's `purpose: ci` accounts, for the refusal's fix. */
  ciAccounts: readonly string[];
}

/** What the boundary says about CI and restricted domains, for ci.create_schema. */
export function ciRestrictedDomains(boundary: Boundary): CiRestrictedDomains {
  const copies = boundary.ciSchemas.restrictedCopies;
  return {
    copies,
    refused: boundary.schemas.filter((s) => s.kind === "prod" && s.restricted && !copies.includes(s.domain)).map((s) => s.domain),
    ciAccounts: boundary.principals.filter((p) => p.purpose === "ci").map((p) => p.name),
  };
}

/** Grants replace their whole scope (REVOKE ALL, then GRANT); a create-before-delete replacement would revoke what it just granted. */
const REPLACE_IN_PLACE = { deleteBeforeReplace: true } as const;

/** Every PostgreSQL resource for a boundary, in registration order: roles before what names them, each ACL edited in a chain. */
export function postgresResources(boundary: Boundary, settings: StackSettings): DeclaredResource[] {
  // Grants reach prod schemas, and developer schemas the provisioner owns (restricted copies) with write for their
  // developer's role; anything else would be dropped silently, so refuse it first.
  const prodSchemas = new Set(boundary.schemas.filter((s) => s.kind === "prod").map((s) => s.name));
  const provisionerOwned = new Set(boundary.schemas.filter((s) => s.kind === "developer" && s.owner === null).map((s) => s.name));
  const inexpressible = boundary.grants.filter((g) => g.role === PUBLIC || !(prodSchemas.has(g.schema) || (provisionerOwned.has(g.schema) && g.access === "write")));
  if (inexpressible.length > 0)
    throw new Error(`the PostgreSQL component grants only named roles on prod schemas; it cannot express ${inexpressible.map((g) => `${g.access} on ${g.schema} to ${g.role}`).join(", ")}`);
  // The provider's role advisory locks overlap for all of these on 16+: no two may run at once (40P01 otherwise).
  const list = new ResourceList({ oneAtATime: takesRoleLocks });
  const access = list.component("warehouse-access:postgres:Access", "postgres");
  const database = settings.database;

  const developerComponents = new Map<string, DeclaredResource>();
  for (const developer of boundary.principals.filter((p) => p.kind === "developer"))
    developerComponents.set(developer.name, list.component("warehouse-access:postgres:Developer", developer.name, access));
  const ownerComponent = (developer: string | undefined): DeclaredResource => (developer && developerComponents.get(developer)) || access;

  // Resources name roles literally and wait for them with dependsOn: a role exists before anything that names it.
  const rolesOf = new Map<string, string[]>();
  for (const m of boundary.memberships) rolesOf.set(m.member, [...(rolesOf.get(m.member) ?? []), m.role]);
  const definitions = new Map(boundary.roles.map((r) => [r.name, r]));
  const roles = new Map<string, DeclaredResource>();
  const groupRole = (roleName: string): DeclaredResource => {
    const existing = roles.get(roleName);
    if (existing) return existing;
    const definition = definitions.get(roleName);
    const parents = rolesOf.get(roleName) ?? [];
    const dependsOn = parents.map(groupRole);
    const role = list.resource(PG.role, roleName, { name: roleName, login: false, roles: parents }, {
      parent: ownerComponent(definition?.kind === "developer" ? definition.of : undefined), dependsOn,
    });
    roles.set(roleName, role);
    return role;
  };
  for (const role of boundary.roles) groupRole(role.name);

  for (const principal of boundary.principals) {
    roles.set(principal.logins.postgres, list.resource(PG.role, principal.logins.postgres, loginInputs(principal, boundary, settings, rolesOf), {
      parent: ownerComponent(principal.kind === "developer" ? principal.name : undefined),
      dependsOn: (rolesOf.get(principal.name) ?? []).map(groupRole),
    }));
  }

  const writersOf = new Map<string, string[]>();
  for (const g of boundary.grants) if (g.access === "write") writersOf.set(g.schema, [...(writersOf.get(g.schema) ?? []), g.role]);
  for (const schema of boundary.schemas.filter((s) => s.kind === "developer"))
    developerSchema(list, ownerComponent(schema.developer), schema, writersOf.get(schema.name) ?? [], settings, groupRole);

  for (const schema of boundary.schemas.filter((s) => s.kind === "prod")) prodSchema(list, access, schema, boundary, database, groupRole);

  ciSchemaFunction(list, access, boundary, settings, groupRole);

  // PostgreSQL 14 lets PUBLIC create in `public`, a schema on everyone's path (15+ no longer does): PUBLIC keeps USAGE only.
  list.resource(PG.grant, `${PUBLIC_SCHEMA}/public/schema`, {
    database, schema: PUBLIC_SCHEMA, objectType: "schema", role: PUBLIC, privileges: ["USAGE"],
  }, { parent: access, ...REPLACE_IN_PLACE });

  // PostgreSQL lets PUBLIC execute every new function; one the writer makes (SECURITY DEFINER) would run as prod_writer.
  list.resource(PG.defaultPrivileges, `${PROD_WRITER}/public/functions`, {
    database, owner: PROD_WRITER, objectType: "function", role: PUBLIC, privileges: [],
  }, { parent: access, dependsOn: [groupRole(PROD_WRITER)], ...REPLACE_IN_PLACE });

  access.outputs = { resourceCount: list.resources.length };
  return list.resources;
}

/** A login's role inputs: developers get the session limits, service accounts act as the role they exist for. */
function loginInputs(principal: Principal, boundary: Boundary, settings: StackSettings, rolesOf: ReadonlyMap<string, string[]>) {
  // The platform's sign-in role (RDS: rds_iam) exists already; Role.roles is authoritative, so it is listed here.
  const base = { name: principal.logins.postgres, login: true, roles: [...(rolesOf.get(principal.name) ?? []), ...authenticationRoles(settings)] };
  if (principal.kind === "developer")
    return { ...base, statementTimeout: settings.postgres.developerStatementTimeoutMs, connectionLimit: settings.postgres.developerConnectionLimit };
  // A service account's sessions act as its role, so what it creates belongs to that role: prod tables to prod_writer
  // (and so fall under its default privileges), CI schemas to ci_builder (and so to cleanup-ci).
  const actsAs = [PROD_WRITER, boundary.ciSchemas.creator].find((role) => rolesOf.get(principal.name)?.includes(role));
  // Its unqualified names resolve in pg_catalog only: a look-alike in a schema others can write (`public` on 14) never runs as it.
  const service = { ...base, searchPaths: [...SERVICE_SEARCH_PATH] };
  return actsAs === undefined ? service : { ...service, assumeRole: actsAs };
}

/** Options for the next step on one ACL: it waits for the step before and for the roles it names. */
function chained(access: DeclaredResource, made: readonly DeclaredResource[], groupRole: (name: string) => DeclaredResource, ...roles: string[]): DeclareOptions {
  return { parent: access, dependsOn: [...made.slice(-1), ...roles.map(groupRole)], ...REPLACE_IN_PLACE };
}

/**
 * CI creates its schemas only through ci.create_schema(run, domain), which runs as the provisioner and makes nothing
 * but ci_<run>_<domain> for a domain that has a prod schema. CREATE on the database would also let CI create, or
 * rename its schema to, a prod_ name (D1). `ci` has no underscore, so no developer or prod schema can take the name.
 */
function ciSchemaFunction(list: ResourceList, access: DeclaredResource, boundary: Boundary, settings: StackSettings, groupRole: (name: string) => DeclaredResource): void {
  const database = settings.database;
  const creator = boundary.ciSchemas.creator;
  const made: DeclaredResource[] = [];
  const after = (...roles: string[]) => chained(access, made, groupRole, ...roles);
  made.push(list.resource(PG.schema, CI_FUNCTION_SCHEMA, { name: CI_FUNCTION_SCHEMA, database }, { parent: access }));
  made.push(list.resource(PG.grant, `${CI_FUNCTION_SCHEMA}/${creator}/schema`, {
    database, schema: CI_FUNCTION_SCHEMA, objectType: "schema", role: creator, privileges: ["USAGE"],
  }, after(creator)));
  // A replaced function comes back with PUBLIC's default EXECUTE: drop it first, and re-run its grants with it.
  const createSchema = list.resource(PG.function, `${CI_FUNCTION_SCHEMA}.create_schema`, {
    database, schema: CI_FUNCTION_SCHEMA, name: "create_schema", language: "plpgsql", returns: "text",
    securityDefiner: true, volatility: "VOLATILE",
    args: [{ name: "run", type: "text" }, { name: "domain", type: "text" }],
    body: ciCreateSchemaBody(boundary.ciSchemas.prefix, creator, ciRestrictedDomains(boundary)),
  }, { parent: access, dependsOn: made.slice(-1), deleteBeforeReplace: true });
  made.push(createSchema);
  made.push(list.resource(PG.grant, `${CI_FUNCTION_SCHEMA}/${creator}/functions`, {
    database, schema: CI_FUNCTION_SCHEMA, objectType: "function", objects: [], role: creator, privileges: ["EXECUTE"],
  }, { ...after(creator), replaceWith: [createSchema] }));
  made.push(list.resource(PG.grant, `${CI_FUNCTION_SCHEMA}/public/functions`, {
    database, schema: CI_FUNCTION_SCHEMA, objectType: "function", objects: [], role: PUBLIC, privileges: [],
  }, { ...after(), replaceWith: [createSchema] }));
}

/**
 * A developer's schema, owned by their role or, for a restricted copy (D5), by the provisioner: then the role gets
 * USAGE and CREATE, so it builds, replaces and drops its own tables and views there, but cannot give anyone USAGE on
 * the schema, without which a SELECT it grants on its tables reads nothing. That Grant is retained: when the domain
 * stops being restricted the schema goes back to the role, and deleting the Grant would revoke USAGE and CREATE from
 * its new owner. The provisioner is named as owner when the stack knows its login, so that an existing schema is
 * handed over too (the provider's owner is Optional+Computed: unset, it stays).
 */
function developerSchema(list: ResourceList, parent: DeclaredResource, schema: Schema, writers: readonly string[], settings: StackSettings, groupRole: (name: string) => DeclaredResource): void {
  const database = settings.database;
  const owner = schema.owner ?? settings.postgres.provisioner;
  const made = list.resource(PG.schema, schema.name, owner === undefined ? { name: schema.name, database } : { name: schema.name, database, owner }, {
    parent, retainOnDelete: true, dependsOn: schema.owner === null ? [] : [groupRole(schema.owner)],
  });
  // Retained like the schema: a schema leaving the roster keeps its grants (dropping the role drops them), and no two
  // of these deletes run at once beside an offboarding's role deletes (their role locks overlap: 40P01 on 16+).
  // The boundary grants write only on a copy (an owner has USAGE and CREATE already).
  let previous = made;
  for (const role of writers) {
    previous = list.resource(PG.grant, `${schema.name}/${role}/schema`, {
      database, schema: schema.name, objectType: "schema", role, privileges: [...POSTGRES_PRIVILEGES.write.schema],
    }, { ...chained(parent, [previous], groupRole, role), retainOnDelete: true });
  }
}

/** A protected prod schema and its ACL; every step that edits the same ACL waits for the one before. */
function prodSchema(list: ResourceList, access: DeclaredResource, schema: Schema, boundary: Boundary, database: string, groupRole: (name: string) => DeclaredResource): void {
  const made: DeclaredResource[] = [];
  const after = (...roles: string[]) => chained(access, made, groupRole, ...roles);
  // Protected, and retained even if someone unprotects it: removing a domain never drops its data. Owned by the writer,
  // which owns every table and view in it too: the provider self-grants a schema's owner (getRolesToGrant) but finds
  // other owners in pg_tables only, so with any other owner a non-superuser could not revoke on the writer's views.
  made.push(list.resource(PG.schema, schema.name, { name: schema.name, database, owner: PROD_WRITER }, {
    parent: access, protect: true, retainOnDelete: true, dependsOn: [groupRole(PROD_WRITER)],
  }));

  const grants = boundary.grants.filter((g) => g.schema === schema.name);
  for (const grant of grants) {
    made.push(list.resource(PG.grant, `${schema.name}/${grant.role}/schema`, {
      database, schema: schema.name, objectType: "schema",
      role: grant.role, privileges: [...POSTGRES_PRIVILEGES[grant.access].schema],
    }, after(grant.role)));
  }
  made.push(list.resource(PG.grant, `${schema.name}/public/schema`, {
    database, schema: schema.name, objectType: "schema", role: PUBLIC, privileges: [],
  }, after()));
  // The writer owns the tables it creates; readers need SELECT on today's tables and, by default privileges, on tomorrow's.
  for (const grant of grants.filter((g) => g.access === "read")) {
    made.push(list.resource(PG.grant, `${schema.name}/${grant.role}/tables`, {
      database, schema: schema.name, objectType: "table", objects: [],
      role: grant.role, privileges: [...POSTGRES_PRIVILEGES.read.tables],
    }, after(grant.role)));
    made.push(list.resource(PG.defaultPrivileges, `${schema.name}/${grant.role}/future-tables`, {
      database, schema: schema.name, objectType: "table", owner: PROD_WRITER,
      role: grant.role, privileges: [...POSTGRES_PRIVILEGES.read.tables],
    }, after(PROD_WRITER, grant.role)));
  }
  made.push(list.resource(PG.grant, `${schema.name}/public/tables`, {
    database, schema: schema.name, objectType: "table", objects: [], role: PUBLIC, privileges: [],
  }, after()));
}
