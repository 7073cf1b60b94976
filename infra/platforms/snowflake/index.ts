import * as pulumi from "@pulumi/pulumi";
import * as snowflake from "@pulumi/snowflake";
import type { Boundary, Principal, Role, RoleKind, RoleName, Schema, SchemaGrant } from "../../boundary/model";
import { snowflakeName } from "../../roster/naming";
import type { StackSettings } from "../../stack";
import { CREATED_MARKER } from "../../ci/schema";
import { CI_SCHEMA_PROCEDURE, CI_SCHEMA_PROCEDURE_ARGUMENTS, CI_SCHEMA_PROCEDURE_RETURNS, createCiSchemaBody } from "./ci-schemas";
import { quoted } from "./identifiers";
import { READ_OBJECT_KINDS, READ_SCOPES, SNOWFLAKE_PRIVILEGES } from "./privileges";
import { databasePrivileges, defaultRoleOf, objectOwningRoles, warehouseOf } from "./roles";

// Snowflake's reading of the boundary: account roles, managed-access prod schemas, developer schemas handed to their
// owners, grants and memberships, and key-pair-only service users. Every who-gets-what comes from the boundary.

export { SNOWFLAKE_PRIVILEGES } from "./privileges";

/** Provider features `pulumi up` must enable (config `snowflake:previewFeaturesEnabled`) for the resources made here. */
export const SNOWFLAKE_PREVIEW_FEATURES = [
  "snowflake_authentication_policy_resource",
  "snowflake_user_authentication_policy_attachment_resource",
  "snowflake_procedure_sql_resource",
] as const;

/** The one authentication policy every service user gets: key pair, nothing else. */
export const SERVICE_AUTHENTICATION_POLICY = "SERVICE_KEYPAIR_ONLY";

export interface SnowflakeAccessArgs {
  boundary: Boundary;
  settings: StackSettings;
}

/** An object as grants name it: quoted, literally, with the resource to wait for when the stack makes it. */
interface Named {
  name: string;
  dependsOn: pulumi.Resource[];
}

/** A role by name; plain names and dependsOn cost the SDK far less than outputs of the AccountRole. */
type RoleReference = (role: RoleName) => Named;

const waitFor = (...named: Named[]): pulumi.Resource[] => named.flatMap((n) => n.dependsOn);

const ROLE_PURPOSE: Record<RoleKind, (role: Role) => string> = {
  prod_writer: () => "the only role that writes to prod schemas; held by prod service accounts",
  prod_reader: () => "reads every unrestricted prod schema",
  restricted_reader: (r) => `reads the restricted prod schema of domain ${r.of ?? "?"}`,
  ci_builder: () => "CI: reads prod; creates ci_ schemas through CREATE_CI_SCHEMA and owns them",
  developer: (r) => `developer ${r.of ?? "?"}: owns their schemas`,
};
const comment = (text: string): string => `warehouse-access: ${text}`;

export class SnowflakeAccess extends pulumi.ComponentResource {
  /** Every account role the stack manages, by boundary role name. */
  readonly roles: Map<RoleName, snowflake.AccountRole>;
  readonly resourceCount: number;

  constructor(name: string, args: SnowflakeAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warehouse-access:snowflake:Access", name, {}, opts);
    const { boundary, settings } = args;
    const platform = settings.snowflake;
    if (platform === undefined)
      throw new Error("warehouse-access:snowflake is not set in the stack config. Add it with warehouses (developers, ci, prod)");
    const database = snowflakeName(settings.database);
    const adminRole = platform.adminRole;
    let count = 1;
    const track = <T extends pulumi.Resource>(resource: T): T => {
      count++;
      return resource;
    };
    const child: pulumi.CustomResourceOptions = { parent: this };

    const roles = new Map<RoleName, snowflake.AccountRole>();
    for (const role of boundary.roles) {
      roles.set(role.name, track(new snowflake.AccountRole(role.name, {
        name: snowflakeName(role.name),
        comment: comment(ROLE_PURPOSE[role.kind](role)),
      }, child)));
    }
    const roleRef: RoleReference = (role) => {
      const made = roles.get(role);
      return { name: quoted(snowflakeName(role)), dependsOn: made ? [made] : [] };
    };

    // Makes adminRole holders writers everywhere these roles write: an admin path, which the audit shows as such.
    const rollUps = new Map<RoleName, snowflake.GrantAccountRole>();
    for (const role of objectOwningRoles(boundary)) {
      rollUps.set(role, track(new snowflake.GrantAccountRole(`${role}/${adminRole}`, {
        roleName: roleRef(role).name,
        parentRoleName: quoted(adminRole),
      }, { ...child, dependsOn: waitFor(roleRef(role)) })));
    }

    for (const [role, privileges] of databasePrivileges(boundary)) {
      track(new snowflake.GrantPrivilegesToAccountRole(`${settings.database}/${role}/database`, {
        accountRoleName: roleRef(role).name,
        privileges,
        onAccountObject: { objectType: "DATABASE", objectName: quoted(database) },
      }, { ...child, dependsOn: waitFor(roleRef(role)) }));
    }
    for (const role of boundary.roles) {
      const warehouse = warehouseOf(role, platform);
      if (warehouse === undefined) continue;
      track(new snowflake.GrantPrivilegesToAccountRole(`${warehouse}/${role.name}/warehouse`, {
        accountRoleName: roleRef(role.name).name,
        privileges: ["USAGE"],
        onAccountObject: { objectType: "WAREHOUSE", objectName: quoted(warehouse) },
      }, { ...child, dependsOn: waitFor(roleRef(role.name)) }));
    }

    this.ciSchemaProcedure(boundary, database, platform.policySchema, roleRef, track);

    const serviceUsers = this.serviceUsers(boundary, database, platform, track);
    const principals = new Map(boundary.principals.map((p) => [p.name, p]));
    for (const membership of boundary.memberships) {
      const principal = principals.get(membership.member);
      const serviceUser = serviceUsers.get(membership.member);
      // Developers are existing Snowflake users, granted by the exact name the roster gives.
      const role = roleRef(membership.role);
      const [member, waits]: [Pick<snowflake.GrantAccountRoleArgs, "userName" | "parentRoleName">, pulumi.Resource[]] = serviceUser
        ? [{ userName: quoted(principal!.logins.snowflake) }, [serviceUser]]
        : principal
          ? [{ userName: quoted(principal.logins.snowflake) }, []]
          : [{ parentRoleName: roleRef(membership.member).name }, waitFor(roleRef(membership.member))];
      track(new snowflake.GrantAccountRole(`${membership.member}/${membership.role}`, { roleName: role.name, ...member }, {
        ...child, dependsOn: [...waitFor(role), ...waits],
      }));
    }

    const grantsOn = new Map<string, SchemaGrant[]>();
    for (const grant of boundary.grants) grantsOn.set(grant.schema, [...(grantsOn.get(grant.schema) ?? []), grant]);
    for (const schema of boundary.schemas) {
      const grants = grantsOn.get(schema.name) ?? [];
      const ownerRollUp = schema.owner === null ? undefined : rollUps.get(schema.owner);
      if (schema.kind === "prod") {
        const prod = new ProdSchema(schema.name, { schema, grants, database, roleRef, ownerRollUp }, { parent: this });
        count += prod.resourceCount;
        continue;
      }
      // A developer's schema outlives the developer: removing them from the roster must never drop their work.
      const made = track(new snowflake.Schema(schema.name, {
        name: snowflakeName(schema.name),
        database,
        comment: comment(`${schema.developer ?? "a developer"}'s schema for domain ${schema.domain}`),
      }, { parent: this, retainOnDelete: true }));
      count += declareSchemaAccess(this, made, database, schema, grants, roleRef, ownerRollUp);
    }

    this.roles = roles;
    this.resourceCount = count;
    this.registerOutputs({
      resourceCount: count,
      roles: boundary.roles.map((r) => snowflakeName(r.name)),
      prodSchemas: boundary.schemas.filter((s) => s.kind === "prod").map((s) => `${database}.${snowflakeName(s.name)}`),
      developerSchemas: boundary.schemas.filter((s) => s.kind === "developer").map((s) => `${database}.${snowflakeName(s.name)}`),
      serviceUsers: [...serviceUsers.values()].map((u) => u.name),
    });
  }

  /** CREATE_CI_SCHEMA (ci-schemas.ts), run with its owner's (the provisioner's) rights, and the CI role's right to call it. */
  private ciSchemaProcedure(
    boundary: Boundary,
    database: string,
    policySchema: string,
    roleRef: RoleReference,
    track: <T extends pulumi.Resource>(resource: T) => T,
  ): void {
    const creator = boundary.ciSchemas.creator;
    // No CREATE OR REPLACE in the provider: a changed body must drop the old procedure first, and its grants go with it.
    const procedure = track(new snowflake.ProcedureSql("create_ci_schema", {
      database,
      schema: policySchema,
      name: CI_SCHEMA_PROCEDURE,
      arguments: CI_SCHEMA_PROCEDURE_ARGUMENTS.map((a) => ({ ...a })),
      returnType: CI_SCHEMA_PROCEDURE_RETURNS,
      executeAs: "OWNER",
      procedureDefinition: createCiSchemaBody(database, snowflakeName(creator), CREATED_MARKER),
      comment: comment(`the one way CI creates schemas: CI_<RUN>_<DOMAIN> for a domain with a prod schema, owned by ${snowflakeName(creator)}`),
    }, { parent: this, deleteBeforeReplace: true }));
    // Calling a procedure takes USAGE on it and on its schema (database USAGE comes from databasePrivileges).
    track(new snowflake.GrantPrivilegesToAccountRole(`${policySchema}/${creator}/usage`, {
      accountRoleName: roleRef(creator).name,
      privileges: ["USAGE"],
      onSchema: { schemaName: quoted(database, policySchema) },
    }, { parent: this, dependsOn: waitFor(roleRef(creator)) }));
    const argumentTypes = CI_SCHEMA_PROCEDURE_ARGUMENTS.map((a) => a.argDataType).join(", ");
    track(new snowflake.GrantPrivilegesToAccountRole(`create_ci_schema/${creator}`, {
      accountRoleName: roleRef(creator).name,
      privileges: ["USAGE"],
      onSchemaObject: {
        objectType: "PROCEDURE",
        objectName: `${quoted(database, policySchema, CI_SCHEMA_PROCEDURE)}(${argumentTypes})`,
      },
    }, { parent: this, replaceWith: [procedure], dependsOn: [procedure, ...waitFor(roleRef(creator))] }));
  }

  /** TYPE=SERVICE users with their roster key, and the key-pair-only policy attached to each. */
  private serviceUsers(
    boundary: Boundary,
    database: string,
    platform: NonNullable<StackSettings["snowflake"]>,
    track: <T extends pulumi.Resource>(resource: T) => T,
  ): Map<string, snowflake.ServiceUser> {
    const users = new Map<string, snowflake.ServiceUser>();
    const services = boundary.principals.filter((p): p is Principal & { kind: "service" } => p.kind === "service");
    if (services.length === 0) return users;
    const policy = track(new snowflake.AuthenticationPolicy("service-keypair-only", {
      database,
      schema: platform.policySchema,
      name: SERVICE_AUTHENTICATION_POLICY,
      authenticationMethods: ["KEYPAIR"],
      comment: comment("service accounts log in with a key pair only"),
    }, { parent: this }));
    const policyName = quoted(database, platform.policySchema, SERVICE_AUTHENTICATION_POLICY);

    for (const principal of services) {
      const role = defaultRoleOf(boundary, principal);
      const warehouse = role && warehouseOf(role, platform);
      const user = track(new snowflake.ServiceUser(principal.name, {
        name: principal.logins.snowflake,
        comment: comment(`${principal.purpose ?? "service"} service account ${principal.name}`),
        ...(principal.rsaPublicKey === undefined ? {} : { rsaPublicKey: principal.rsaPublicKey }),
        ...(role === undefined ? {} : { defaultRole: snowflakeName(role.name) }),
        ...(warehouse === undefined ? {} : { defaultWarehouse: warehouse }),
      }, { parent: this }));
      track(new snowflake.UserAuthenticationPolicyAttachment(principal.name, {
        userName: quoted(principal.logins.snowflake),
        authenticationPolicyName: policyName,
      }, { parent: this, dependsOn: [user, policy] }));
      users.set(principal.name, user);
    }
    return users;
  }
}

export interface ProdSchemaArgs {
  schema: Schema;
  grants: SchemaGrant[];
  database: string;
  roleRef: RoleReference;
  ownerRollUp?: pulumi.Resource | undefined;
}

/** One prod schema: managed access, protected, never dropped, with the writer's and readers' grants on it. */
export class ProdSchema extends pulumi.ComponentResource {
  readonly schema: snowflake.Schema;
  /** Resources made, this component included. */
  readonly resourceCount: number;

  constructor(name: string, args: ProdSchemaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warehouse-access:snowflake:ProdSchema", name, {}, opts);
    const { schema, grants, database, roleRef, ownerRollUp } = args;
    // Managed access: only the schema owner (the provisioner) grants here, so the writer's objects cannot be shared onward.
    this.schema = new snowflake.Schema(schema.name, {
      name: snowflakeName(schema.name),
      database,
      withManagedAccess: "true",
      comment: comment(`production schema of domain ${schema.domain}; written only by prod_writer`),
    }, { parent: this, protect: true, retainOnDelete: true });
    this.resourceCount = 2 + declareSchemaAccess(this, this.schema, database, schema, grants, roleRef, ownerRollUp);
    this.registerOutputs({ schema: `${database}.${snowflakeName(schema.name)}`, resourceCount: this.resourceCount });
  }
}

/** A schema's owner (handed over after creation: Snowflake cannot create a schema with one) and its grants. Returns the count. */
function declareSchemaAccess(
  parent: pulumi.Resource,
  made: snowflake.Schema,
  database: string,
  schema: Schema,
  grants: readonly SchemaGrant[],
  roleRef: RoleReference,
  ownerRollUp: pulumi.Resource | undefined,
): number {
  const inSchema = quoted(database, snowflakeName(schema.name));
  let count = 0;
  if (schema.owner !== null) {
    count++;
    // Deleting this hands the schema back to the provisioner, so replace delete-first or the new owner would lose it.
    // It waits for the owner's roll-up: Snowflake transfers ownership only to a role the provisioner's session holds.
    new snowflake.GrantOwnership(schema.name, {
      accountRoleName: roleRef(schema.owner).name,
      outboundPrivileges: "COPY",
      on: { objectType: "SCHEMA", objectName: inSchema },
    }, { parent, deleteBeforeReplace: true, dependsOn: [made, ...waitFor(roleRef(schema.owner)), ...(ownerRollUp ? [ownerRollUp] : [])] });
  }
  for (const grant of grants) {
    const prefix = `${schema.name}/${grant.role}`;
    const role = roleRef(grant.role);
    const accountRoleName = role.name;
    const after: pulumi.CustomResourceOptions = { parent, dependsOn: [made, ...waitFor(role)] };
    if (grant.access === "write") {
      count++;
      new snowflake.GrantPrivilegesToAccountRole(`${prefix}/write`, {
        accountRoleName,
        privileges: [...SNOWFLAKE_PRIVILEGES.write.schema],
        onSchema: { schemaName: inSchema },
      }, after);
      continue;
    }
    count++;
    new snowflake.GrantPrivilegesToAccountRole(`${prefix}/usage`, {
      accountRoleName,
      privileges: [...SNOWFLAKE_PRIVILEGES.read.schema],
      onSchema: { schemaName: inSchema },
    }, after);
    // Schema-level future grants, because they override database-level ones in this schema.
    for (const scope of READ_SCOPES) {
      for (const kind of READ_OBJECT_KINDS) {
        count++;
        new snowflake.GrantPrivilegesToAccountRole(`${prefix}/${scope}-${kind.toLowerCase()}`, {
          accountRoleName,
          privileges: [...SNOWFLAKE_PRIVILEGES.read.objects],
          onSchemaObject: { [scope]: { objectTypePlural: kind, inSchema } },
        }, after);
      }
    }
  }
  return count;
}
