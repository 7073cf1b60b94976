import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { CREATED_MARKER } from "../../ci/schema";
import { PROD_SCHEMA_PREFIX, PROD_WRITER } from "../../roster/naming";
import type { Boundary, Principal, Schema } from "../../boundary/model";
import { PUBLIC } from "../../boundary/model";
import type { StackSettings } from "../../stack";

// PostgreSQL's reading of the boundary: which SQL objects and privileges "read" and "write" become.

export interface PostgresAccessArgs {
  boundary: Boundary;
  settings: StackSettings;
}

/** The privileges each access level means on a schema and on the tables (and views) in it. */
export const POSTGRES_PRIVILEGES = {
  read: { schema: ["USAGE"], tables: ["SELECT"] },
  write: { schema: ["USAGE", "CREATE"] },
} as const;

/** Where the function that creates CI schemas lives. */
export const CI_FUNCTION_SCHEMA = "ci";

/** The body of ci.create_schema(run, domain): validates, creates the schema for the CI role, stamps its creation time. */
export function ciCreateSchemaBody(prefix: string, creator: string): string {
  return `
DECLARE
  caller_path text := pg_catalog.current_setting('search_path');
  schema_name text;
  owner_name text;
  schema_comment text;
BEGIN
  -- Runs as the provisioner: resolve every name in pg_catalog first, never in a schema the caller controls.
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  IF run IS NULL OR domain IS NULL THEN
    RAISE EXCEPTION 'CI schemas need a run and a domain' USING ERRCODE = 'invalid_schema_name';
  END IF;
  schema_name := '${prefix}' || run || '_' || domain;
  IF run !~ '^[a-z0-9][a-z0-9_]*$' OR domain !~ '^[a-z][a-z0-9_]*$' OR octet_length(schema_name) > 63 THEN
    RAISE EXCEPTION 'CI schemas are ${prefix}<run>_<domain> in lowercase letters, digits and _, at most 63 bytes: not %', schema_name
      USING ERRCODE = 'invalid_schema_name';
  END IF;
  IF to_regnamespace(quote_ident('${PROD_SCHEMA_PREFIX}' || domain)) IS NULL THEN
    RAISE EXCEPTION 'no domain %: CI schemas are made only for domains with a prod schema', domain USING ERRCODE = 'invalid_schema_name';
  END IF;
  SELECT pg_get_userbyid(oid_owner.nspowner), obj_description(oid_owner.oid, 'pg_namespace') INTO owner_name, schema_comment
    FROM pg_namespace AS oid_owner WHERE oid_owner.nspname = schema_name;
  IF owner_name IS NULL THEN
    EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', schema_name, '${creator}');
    EXECUTE format('COMMENT ON SCHEMA %I IS %L', schema_name,
      '${CREATED_MARKER}' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
  ELSIF owner_name <> '${creator}' OR coalesce(strpos(schema_comment, '${CREATED_MARKER}'), 0) = 0 THEN
    -- Only a schema this function made (owned by ${creator}, stamped) is handed back; cleanup-ci can date only those.
    RAISE EXCEPTION 'schema % exists but was not made by ci.create_schema (owner %)', schema_name, owner_name USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_catalog.set_config('search_path', caller_path, true);
  RETURN schema_name;
END`;
}

/** Grants replace their whole scope (REVOKE ALL, then GRANT); a create-before-delete replacement would revoke what it just granted. */
const REPLACE_IN_PLACE: pulumi.CustomResourceOptions = { deleteBeforeReplace: true };

export class PostgresAccess extends pulumi.ComponentResource {
  /** Every PostgreSQL role the stack manages, by name: group roles and logins. */
  readonly roles: Map<string, postgresql.Role>;
  readonly resourceCount: number;

  constructor(name: string, args: PostgresAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    // Grants reach prod schemas only (developers own theirs); anything else would be dropped silently, so refuse it first.
    const prodSchemas = new Set(args.boundary.schemas.filter((s) => s.kind === "prod").map((s) => s.name));
    const inexpressible = args.boundary.grants.filter((g) => g.role === PUBLIC || !prodSchemas.has(g.schema));
    if (inexpressible.length > 0)
      throw new Error(`the PostgreSQL component grants only named roles on prod schemas; it cannot express ${inexpressible.map((g) => `${g.access} on ${g.schema} to ${g.role}`).join(", ")}`);
    super("warehouse-access:postgres:Access", name, {}, opts);
    const { boundary, settings } = args;
    const database = settings.database;
    let count = 1;
    const track = <T>(resource: T): T => {
      count++;
      return resource;
    };

    const developerComponents = new Map<string, pulumi.ComponentResource>();
    for (const developer of boundary.principals.filter((p) => p.kind === "developer")) {
      developerComponents.set(developer.name, track(new pulumi.ComponentResource("warehouse-access:postgres:Developer", developer.name, {}, { parent: this })));
    }
    const ownerComponent = (developer: string | undefined): pulumi.Resource => (developer && developerComponents.get(developer)) || this;

    // Resources name roles literally and wait for them with dependsOn: a role exists before anything that names it.
    const rolesOf = new Map<string, string[]>();
    for (const m of boundary.memberships) rolesOf.set(m.member, [...(rolesOf.get(m.member) ?? []), m.role]);
    const roles = new Map<string, postgresql.Role>();
    const groupRole = (roleName: string): postgresql.Role => {
      const existing = roles.get(roleName);
      if (existing) return existing;
      const definition = boundary.roles.find((r) => r.name === roleName);
      const parents = rolesOf.get(roleName) ?? [];
      const role = track(new postgresql.Role(roleName, {
        name: roleName,
        login: false,
        roles: parents,
      }, { parent: ownerComponent(definition?.kind === "developer" ? definition.of : undefined), dependsOn: parents.map(groupRole) }));
      roles.set(roleName, role);
      return role;
    };
    for (const role of boundary.roles) groupRole(role.name);

    const loginArgs = (principal: Principal): postgresql.RoleArgs => {
      const base = {
        name: principal.logins.postgres,
        login: true,
        roles: rolesOf.get(principal.name) ?? [],
      };
      if (principal.kind === "developer")
        return {
          ...base,
          statementTimeout: settings.postgres.developerStatementTimeoutMs,
          connectionLimit: settings.postgres.developerConnectionLimit,
        };
      // A service account's sessions act as its role, so what it creates belongs to that role: prod tables to prod_writer
      // (and so fall under its default privileges), CI schemas to ci_builder (and so to cleanup-ci).
      const actsAs = [PROD_WRITER, boundary.ciSchemas.creator].find((role) => rolesOf.get(principal.name)?.includes(role));
      return actsAs === undefined ? base : { ...base, assumeRole: actsAs };
    };
    for (const principal of boundary.principals) {
      roles.set(principal.logins.postgres, track(new postgresql.Role(principal.logins.postgres, loginArgs(principal), {
        parent: ownerComponent(principal.kind === "developer" ? principal.name : undefined),
        dependsOn: (rolesOf.get(principal.name) ?? []).map(groupRole),
      })));
    }

    for (const schema of boundary.schemas.filter((s) => s.kind === "developer")) {
      track(new postgresql.Schema(schema.name, {
        name: schema.name,
        database,
        owner: schema.owner!,
      }, { parent: ownerComponent(schema.developer), retainOnDelete: true, dependsOn: [groupRole(schema.owner!)] }));
    }

    for (const schema of boundary.schemas.filter((s) => s.kind === "prod")) {
      count += this.prodSchema(schema, boundary, database, groupRole);
    }

    count += this.ciSchemaFunction(boundary, settings, groupRole);

    // PostgreSQL lets PUBLIC execute every new function; one the writer makes (SECURITY DEFINER) would run as prod_writer.
    track(new postgresql.DefaultPrivileges(`${PROD_WRITER}/public/functions`, {
      database, owner: PROD_WRITER, objectType: "function", role: PUBLIC, privileges: [],
    }, { parent: this, dependsOn: [groupRole(PROD_WRITER)], ...REPLACE_IN_PLACE }));

    this.roles = roles;
    this.resourceCount = count;
    this.registerOutputs({ resourceCount: count });
  }

  /**
   * CI creates its schemas only through ci.create_schema(run, domain), which runs as the provisioner and makes nothing
   * but ci_<run>_<domain> for a domain that has a prod schema. CREATE on the database would also let CI create, or
   * rename its schema to, a prod_ name (D1). `ci` has no underscore, so no developer or prod schema can take the name.
   */
  private ciSchemaFunction(boundary: Boundary, settings: StackSettings, groupRole: (name: string) => postgresql.Role): number {
    const database = settings.database;
    const creator = boundary.ciSchemas.creator;
    const made: pulumi.Resource[] = [];
    const after = (...roles: string[]): pulumi.CustomResourceOptions => ({ parent: this, dependsOn: [...made.slice(-1), ...roles.map(groupRole)], ...REPLACE_IN_PLACE });
    made.push(new postgresql.Schema(CI_FUNCTION_SCHEMA, { name: CI_FUNCTION_SCHEMA, database }, { parent: this }));
    made.push(new postgresql.Grant(`${CI_FUNCTION_SCHEMA}/${boundary.ciSchemas.creator}/schema`, {
      database, schema: CI_FUNCTION_SCHEMA, objectType: "schema", role: creator, privileges: ["USAGE"],
    }, after(creator)));
    // A replaced function comes back with PUBLIC's default EXECUTE: drop it first, and re-run its grants with it.
    const createSchema = new postgresql.Function(`${CI_FUNCTION_SCHEMA}.create_schema`, {
      database, schema: CI_FUNCTION_SCHEMA, name: "create_schema", language: "plpgsql", returns: "text",
      securityDefiner: true, volatility: "VOLATILE",
      args: [{ name: "run", type: "text" }, { name: "domain", type: "text" }],
      body: ciCreateSchemaBody(boundary.ciSchemas.prefix, boundary.ciSchemas.creator),
    }, { parent: this, dependsOn: made.slice(-1), deleteBeforeReplace: true });
    made.push(createSchema);
    made.push(new postgresql.Grant(`${CI_FUNCTION_SCHEMA}/${boundary.ciSchemas.creator}/functions`, {
      database, schema: CI_FUNCTION_SCHEMA, objectType: "function", objects: [], role: creator, privileges: ["EXECUTE"],
    }, { ...after(creator), replaceWith: [createSchema] }));
    made.push(new postgresql.Grant(`${CI_FUNCTION_SCHEMA}/public/functions`, {
      database, schema: CI_FUNCTION_SCHEMA, objectType: "function", objects: [], role: PUBLIC, privileges: [],
    }, { ...after(), replaceWith: [createSchema] }));
    // CREATE SCHEMA … AUTHORIZATION ci_builder needs the function's owner to hold ci_builder (PostgreSQL 16+: SET).
    if (settings.postgres.provisioner !== undefined)
      made.push(new postgresql.GrantRole(`${settings.postgres.provisioner}/${boundary.ciSchemas.creator}`, {
        role: settings.postgres.provisioner, grantRole: creator,
      }, { parent: this, dependsOn: [groupRole(creator)] }));
    return made.length;
  }

  /** A protected prod schema and its ACL; every step that edits the same ACL waits for the one before. Returns the resources made. */
  private prodSchema(schema: Schema, boundary: Boundary, database: string, groupRole: (name: string) => postgresql.Role): number {
    const made: pulumi.Resource[] = [];
    const after = (...roles: string[]): pulumi.CustomResourceOptions => ({ parent: this, dependsOn: [...made.slice(-1), ...roles.map(groupRole)], ...REPLACE_IN_PLACE });
    // Protected, and retained even if someone unprotects it: removing a domain never drops its data.
    made.push(new postgresql.Schema(schema.name, { name: schema.name, database }, { parent: this, protect: true, retainOnDelete: true }));

    const grants = boundary.grants.filter((g) => g.schema === schema.name);
    for (const grant of grants) {
      made.push(new postgresql.Grant(`${schema.name}/${grant.role}/schema`, {
        database, schema: schema.name, objectType: "schema",
        role: grant.role, privileges: [...POSTGRES_PRIVILEGES[grant.access].schema],
      }, after(grant.role)));
    }
    made.push(new postgresql.Grant(`${schema.name}/public/schema`, {
      database, schema: schema.name, objectType: "schema", role: PUBLIC, privileges: [],
    }, after()));
    // The writer owns the tables it creates; readers need SELECT on today's tables and, by default privileges, on tomorrow's.
    for (const grant of grants.filter((g) => g.access === "read")) {
      made.push(new postgresql.Grant(`${schema.name}/${grant.role}/tables`, {
        database, schema: schema.name, objectType: "table", objects: [],
        role: grant.role, privileges: [...POSTGRES_PRIVILEGES.read.tables],
      }, after(grant.role)));
      made.push(new postgresql.DefaultPrivileges(`${schema.name}/${grant.role}/future-tables`, {
        database, schema: schema.name, objectType: "table", owner: PROD_WRITER,
        role: grant.role, privileges: [...POSTGRES_PRIVILEGES.read.tables],
      }, after(PROD_WRITER, grant.role)));
    }
    made.push(new postgresql.Grant(`${schema.name}/public/tables`, {
      database, schema: schema.name, objectType: "table", objects: [], role: PUBLIC, privileges: [],
    }, after()));
    return made.length;
  }
}
