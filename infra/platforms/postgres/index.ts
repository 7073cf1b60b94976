import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { PROD_WRITER } from "../../roster/naming";
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

/** Grants replace their whole scope (REVOKE ALL, then GRANT); a create-before-delete replacement would revoke what it just granted. */
const REPLACE_IN_PLACE: pulumi.CustomResourceOptions = { deleteBeforeReplace: true };

export class PostgresAccess extends pulumi.ComponentResource {
  /** Every PostgreSQL role the stack manages, by name: group roles and logins. */
  readonly roles: Map<string, postgresql.Role>;
  readonly resourceCount: number;

  constructor(name: string, args: PostgresAccessArgs, opts?: pulumi.ComponentResourceOptions) {
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

    // Memberships name their roles by output, so a role is created only after every role it joins.
    const rolesOf = new Map<string, string[]>();
    for (const m of boundary.memberships) rolesOf.set(m.member, [...(rolesOf.get(m.member) ?? []), m.role]);
    const roles = new Map<string, postgresql.Role>();
    const groupRole = (roleName: string): postgresql.Role => {
      const existing = roles.get(roleName);
      if (existing) return existing;
      const definition = boundary.roles.find((r) => r.name === roleName);
      const role = track(new postgresql.Role(roleName, {
        name: roleName,
        login: false,
        roles: (rolesOf.get(roleName) ?? []).map((parent) => groupRole(parent).name),
      }, { parent: ownerComponent(definition?.kind === "developer" ? definition.of : undefined) }));
      roles.set(roleName, role);
      return role;
    };
    for (const role of boundary.roles) groupRole(role.name);

    const loginArgs = (principal: Principal): postgresql.RoleArgs => {
      const base = {
        name: principal.logins.postgres,
        login: true,
        roles: (rolesOf.get(principal.name) ?? []).map((r) => groupRole(r).name),
      };
      if (principal.kind === "developer")
        return {
          ...base,
          statementTimeout: settings.postgres.developerStatementTimeoutMs,
          connectionLimit: settings.postgres.developerConnectionLimit,
        };
      // A prod account's sessions act as the writer, so what it creates is owned by prod_writer and covered by its default privileges.
      const writes = rolesOf.get(principal.name)?.includes(PROD_WRITER) ?? false;
      return writes ? { ...base, assumeRole: PROD_WRITER } : base;
    };
    for (const principal of boundary.principals) {
      roles.set(principal.logins.postgres, track(new postgresql.Role(principal.logins.postgres, loginArgs(principal), {
        parent: ownerComponent(principal.kind === "developer" ? principal.name : undefined),
      })));
    }

    for (const schema of boundary.schemas.filter((s) => s.kind === "developer")) {
      track(new postgresql.Schema(schema.name, {
        name: schema.name,
        database,
        owner: groupRole(schema.owner!).name,
      }, { parent: ownerComponent(schema.developer), retainOnDelete: true }));
    }

    for (const schema of boundary.schemas.filter((s) => s.kind === "prod")) {
      count += this.prodSchema(schema, boundary, database, groupRole);
    }

    track(new postgresql.Grant(`${database}/${boundary.ciSchemas.creator}/create-schemas`, {
      database,
      objectType: "database",
      role: groupRole(boundary.ciSchemas.creator).name,
      privileges: ["CONNECT", "CREATE"],
    }, { parent: this, ...REPLACE_IN_PLACE }));

    this.roles = roles;
    this.resourceCount = count;
    this.registerOutputs({ resourceCount: count });
  }

  /** A protected prod schema and its ACL; every step that edits the same ACL waits for the one before. Returns the resources made. */
  private prodSchema(schema: Schema, boundary: Boundary, database: string, groupRole: (name: string) => postgresql.Role): number {
    const made: pulumi.Resource[] = [];
    const after = (): pulumi.CustomResourceOptions => ({ parent: this, dependsOn: made.slice(-1), ...REPLACE_IN_PLACE });
    made.push(new postgresql.Schema(schema.name, { name: schema.name, database }, { parent: this, protect: true }));

    const grants = boundary.grants.filter((g) => g.schema === schema.name && g.role !== PUBLIC);
    for (const grant of grants) {
      made.push(new postgresql.Grant(`${schema.name}/${grant.role}/schema`, {
        database, schema: schema.name, objectType: "schema",
        role: groupRole(grant.role).name, privileges: [...POSTGRES_PRIVILEGES[grant.access].schema],
      }, after()));
    }
    made.push(new postgresql.Grant(`${schema.name}/public/schema`, {
      database, schema: schema.name, objectType: "schema", role: PUBLIC, privileges: [],
    }, after()));
    // The writer owns the tables it creates; readers need SELECT on today's tables and, by default privileges, on tomorrow's.
    for (const grant of grants.filter((g) => g.access === "read")) {
      made.push(new postgresql.Grant(`${schema.name}/${grant.role}/tables`, {
        database, schema: schema.name, objectType: "table", objects: [],
        role: groupRole(grant.role).name, privileges: [...POSTGRES_PRIVILEGES.read.tables],
      }, after()));
      made.push(new postgresql.DefaultPrivileges(`${schema.name}/${grant.role}/future-tables`, {
        database, schema: schema.name, objectType: "table", owner: groupRole(PROD_WRITER).name,
        role: groupRole(grant.role).name, privileges: [...POSTGRES_PRIVILEGES.read.tables],
      }, after()));
    }
    made.push(new postgresql.Grant(`${schema.name}/public/tables`, {
      database, schema: schema.name, objectType: "table", objects: [], role: PUBLIC, privileges: [],
    }, after()));
    return made.length;
  }
}
