import type { Boundary, Principal, Role, RoleKind, RoleName, Schema, SchemaGrant } from "../../boundary/model";
import { snowflakeName } from "../../roster/naming";
import type { StackSettings } from "../../stack";
import { SF } from "../kinds";
import { ResourceList, type DeclaredResource } from "../resources";
import { CREATED_MARKER } from "../../ci/schema";
import { CI_SCHEMA_PROCEDURE, CI_SCHEMA_PROCEDURE_ARGUMENTS, CI_SCHEMA_PROCEDURE_RETURNS, createCiSchemaBody } from "./ci-schemas";
import { quoted } from "./identifiers";
import { DELETE_BEFORE_REPLACE } from "./stored-form";
import { READ_OBJECT_KINDS, READ_SCOPES, SNOWFLAKE_PRIVILEGES } from "./privileges";
import { ciSchemaProcedureSpec, databasePrivileges, defaultRoleOf, objectOwningRoles, warehouseOf } from "./roles";

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

/** An object as grants name it: quoted, literally, with the resource to wait for when the stack makes it. */
interface Named {
  name: string;
  dependsOn: DeclaredResource[];
}

/** A role by name; plain names and dependsOn cost far less at `pulumi up` than outputs of the AccountRole. */
type RoleReference = (role: RoleName) => Named;

const waitFor = (...named: Named[]): DeclaredResource[] => named.flatMap((n) => n.dependsOn);

const ROLE_PURPOSE: Record<RoleKind, (role: Role) => string> = {
  prod_writer: () => "the only role that writes to prod schemas; held by prod service accounts",
  prod_reader: () => "reads every unrestricted prod schema",
  restricted_reader: (r) => `reads the restricted prod schema of domain ${r.of ?? "?"}`,
  ci_builder: () => "CI: reads prod; creates ci_ schemas through CREATE_CI_SCHEMA and owns them",
  developer: (r) => `developer ${r.of ?? "?"}: owns their schemas`,
};
// Joined, not concatenated: one flat string, a third of the size of the chain `+` builds, 45,000 times at 1,000 × 50.
const comment = (text: string): string => ["warehouse-access: ", text].join("");

/** The roll-up grants' name after the rolled-up role: a hyphen, so no membership (`<member>/<role>`) can share it. */
export const ADMIN_ROLL_UP = "admin-roll-up";

/** Every Snowflake resource for a boundary, in registration order. */
export function snowflakeResources(boundary: Boundary, settings: StackSettings): DeclaredResource[] {
  const platform = settings.snowflake;
  if (platform === undefined)
    throw new Error("warehouse-access:snowflake is not set in the stack config. Add it with warehouses (developers, ci, prod)");
  const list = new ResourceList();
  const access = list.component("warehouse-access:snowflake:Access", "snowflake");
  const database = snowflakeName(settings.database);
  const adminRole = platform.adminRole;
  const child = { parent: access };

  const roles = new Map<RoleName, DeclaredResource>();
  for (const role of boundary.roles) {
    roles.set(role.name, list.resource(SF.accountRole, role.name, {
      name: snowflakeName(role.name),
      comment: comment(ROLE_PURPOSE[role.kind](role)),
    }, child));
  }
  // One reference per role, made once: a developer's role is named by every one of their schemas.
  const references = new Map<RoleName, Named>();
  const roleRef: RoleReference = (role) => {
    let named = references.get(role);
    if (named === undefined) {
      const made = roles.get(role);
      named = { name: quoted(snowflakeName(role)), dependsOn: made ? [made] : [] };
      references.set(role, named);
    }
    return named;
  };

  // Makes adminRole holders writers everywhere these roles write: an admin path, which the audit shows as such.
  // Named without the admin role, so a new adminRole replaces the grant under the same name (v1.2.1
  // grant_account_role.go grantAccountRoleSchema: parent_role_name ForceNew); the alias is its former name, role included.
  const rollUps = new Map<RoleName, DeclaredResource>();
  for (const role of objectOwningRoles(boundary)) {
    rollUps.set(role, list.resource(SF.grantAccountRole, `${role}/${ADMIN_ROLL_UP}`, {
      roleName: roleRef(role).name,
      parentRoleName: quoted(adminRole),
    }, { ...child, dependsOn: waitFor(roleRef(role)), aliases: [`${role}/${adminRole}`] }));
  }

  for (const [role, privileges] of databasePrivileges(boundary)) {
    list.resource(SF.grantPrivileges, `${settings.database}/${role}/database`, {
      accountRoleName: roleRef(role).name,
      privileges,
      onAccountObject: { objectType: "DATABASE", objectName: quoted(database) },
    }, { ...child, dependsOn: waitFor(roleRef(role)) });
  }
  for (const role of boundary.roles) {
    const warehouse = warehouseOf(role, platform);
    if (warehouse === undefined) continue;
    list.resource(SF.grantPrivileges, `${warehouse}/${role.name}/warehouse`, {
      accountRoleName: roleRef(role.name).name,
      privileges: ["USAGE"],
      onAccountObject: { objectType: "WAREHOUSE", objectName: quoted(warehouse) },
    }, { ...child, dependsOn: waitFor(roleRef(role.name)) });
  }

  ciSchemaProcedure(list, access, boundary, database, platform, roleRef);

  const serviceUsers = declareServiceUsers(list, access, boundary, database, platform);
  const principals = new Map(boundary.principals.map((p) => [p.name, p]));
  for (const membership of boundary.memberships) {
    const principal = principals.get(membership.member);
    const serviceUser = serviceUsers.get(membership.member);
    // Developers are existing Snowflake users, granted by the exact name the roster gives.
    const role = roleRef(membership.role);
    const [member, waits]: [{ userName: string } | { parentRoleName: string }, DeclaredResource[]] = serviceUser
      ? [{ userName: quoted(principal!.logins.snowflake) }, [serviceUser]]
      : principal
        ? [{ userName: quoted(principal.logins.snowflake) }, []]
        : [{ parentRoleName: roleRef(membership.member).name }, waitFor(roleRef(membership.member))];
    list.resource(SF.grantAccountRole, `${membership.member}/${membership.role}`, { roleName: role.name, ...member }, {
      ...child, dependsOn: [...waitFor(role), ...waits],
    });
  }

  const grantsOn = new Map<string, SchemaGrant[]>();
  for (const grant of boundary.grants) {
    const on = grantsOn.get(grant.schema);
    if (on) on.push(grant);
    else grantsOn.set(grant.schema, [grant]);
  }
  for (const schema of boundary.schemas) {
    const grants = grantsOn.get(schema.name) ?? [];
    const ownerRollUp = schema.owner === null ? undefined : rollUps.get(schema.owner);
    if (schema.kind === "prod") {
      prodSchema(list, access, { schema, grants, database, roleRef, ownerRollUp });
      continue;
    }
    // A developer's schema outlives the developer: removing them from the roster must never drop their work. One the
    // provisioner keeps (a restricted copy) is managed access: only its owner grants there, so the developer's role
    // creates in it but cannot share it or what it holds (D5).
    const name = snowflakeName(schema.name);
    const purpose = `${schema.developer ?? "a developer"}'s schema for domain ${schema.domain}`;
    const made = list.resource(SF.schema, schema.name, schema.owner === null
      ? { name, database, withManagedAccess: "true", comment: comment(`${purpose}; kept by the provisioner, so it cannot be shared`) }
      : { name, database, comment: comment(purpose) }, { parent: access, retainOnDelete: true });
    declareSchemaAccess(list, access, made, { schema, grants, database, roleRef, ownerRollUp });
  }

  // Grants, the policy and its attachments, ownership and the procedure: creating the replacement beside the old one
  // fails or is undone by the old one's delete, so every one of them is replaced delete-first (stored-form.ts).
  for (const resource of list.resources) if (resource.type in DELETE_BEFORE_REPLACE) resource.deleteBeforeReplace = true;

  access.outputs = {
    resourceCount: list.resources.length,
    roles: boundary.roles.map((r) => snowflakeName(r.name)),
    prodSchemas: boundary.schemas.filter((s) => s.kind === "prod").map((s) => `${database}.${snowflakeName(s.name)}`),
    developerSchemas: boundary.schemas.filter((s) => s.kind === "developer").map((s) => `${database}.${snowflakeName(s.name)}`),
    serviceUsers: [...serviceUsers.values()].map((u) => u.inputs.name),
  };
  return list.resources;
}

/** CREATE_CI_SCHEMA (ci-schemas.ts), run with its owner's (the provisioner's) rights, and the CI role's right to call it. */
function ciSchemaProcedure(list: ResourceList, access: DeclaredResource, boundary: Boundary, database: string, platform: NonNullable<StackSettings["snowflake"]>, roleRef: RoleReference): void {
  const { policySchema, adminRole } = platform;
  const creator = boundary.ciSchemas.creator;
  // No CREATE OR REPLACE in the provider: a changed body must drop the old procedure first, and its grants go with it.
  const procedure = list.resource(SF.procedureSql, "create_ci_schema", {
    database,
    schema: policySchema,
    name: CI_SCHEMA_PROCEDURE,
    arguments: CI_SCHEMA_PROCEDURE_ARGUMENTS.map((a) => ({ ...a })),
    returnType: CI_SCHEMA_PROCEDURE_RETURNS,
    executeAs: "OWNER",
    procedureDefinition: createCiSchemaBody(ciSchemaProcedureSpec(boundary, database, adminRole, CREATED_MARKER)),
    comment: comment(`the one way CI creates schemas: TRANSIENT CI_<RUN>_<DOMAIN> for a domain whose prod schema ${snowflakeName(creator)} reads, owned by it`),
  }, { parent: access, deleteBeforeReplace: true });
  // Calling a procedure takes USAGE on it and on its schema (database USAGE comes from databasePrivileges).
  list.resource(SF.grantPrivileges, `${policySchema}/${creator}/usage`, {
    accountRoleName: roleRef(creator).name,
    privileges: ["USAGE"],
    onSchema: { schemaName: quoted(database, policySchema) },
  }, { parent: access, dependsOn: waitFor(roleRef(creator)) });
  const argumentTypes = CI_SCHEMA_PROCEDURE_ARGUMENTS.map((a) => a.argDataType).join(", ");
  list.resource(SF.grantPrivileges, `create_ci_schema/${creator}`, {
    accountRoleName: roleRef(creator).name,
    privileges: ["USAGE"],
    onSchemaObject: {
      objectType: "PROCEDURE",
      objectName: `${quoted(database, policySchema, CI_SCHEMA_PROCEDURE)}(${argumentTypes})`,
    },
  }, { parent: access, replaceWith: [procedure], dependsOn: [procedure, ...waitFor(roleRef(creator))] });
}

/** TYPE=SERVICE users with their roster key, and the key-pair-only policy attached to each. */
function declareServiceUsers(
  list: ResourceList,
  access: DeclaredResource,
  boundary: Boundary,
  database: string,
  platform: NonNullable<StackSettings["snowflake"]>,
): Map<string, DeclaredResource> {
  const users = new Map<string, DeclaredResource>();
  const services = boundary.principals.filter((p): p is Principal & { kind: "service" } => p.kind === "service");
  if (services.length === 0) return users;
  const policy = list.resource(SF.authenticationPolicy, "service-keypair-only", {
    database,
    schema: platform.policySchema,
    name: SERVICE_AUTHENTICATION_POLICY,
    authenticationMethods: ["KEYPAIR"],
    // v1.2.1 always sends MFA_ENROLLMENT = OPTIONAL (its schema Default) and stores what DESCRIBE reports, which
    // Snowflake gives in other words: sent as the provider sends it, its read-back ignored (stored-form.ts).
    mfaEnrollment: "OPTIONAL",
    comment: comment("service accounts log in with a key pair only"),
  }, { parent: access, deleteBeforeReplace: true, ignoreChanges: ["mfaEnrollment"] });
  const policyName = quoted(database, platform.policySchema, SERVICE_AUTHENTICATION_POLICY);

  for (const principal of services) {
    const role = defaultRoleOf(boundary, principal);
    const warehouse = role && warehouseOf(role, platform);
    const user = list.resource(SF.serviceUser, principal.name, {
      name: principal.logins.snowflake,
      comment: comment(`${principal.purpose ?? "service"} service account ${principal.name}`),
      ...(principal.rsaPublicKey === undefined ? {} : { rsaPublicKey: principal.rsaPublicKey }),
      // The provider reads RSA_PUBLIC_KEY_2 back and unsets one set by hand: a rotation's second key lives in the roster.
      ...(principal.rsaPublicKey2 === undefined ? {} : { rsaPublicKey2: principal.rsaPublicKey2 }),
      ...(role === undefined ? {} : { defaultRole: snowflakeName(role.name) }),
      ...(warehouse === undefined ? {} : { defaultWarehouse: warehouse }),
    }, { parent: access });
    // user_name is ForceNew and read back bare (v1.2.1 ReadUserAuthenticationPolicyAttachment: userName.Name()), so it
    // is sent bare; a replacement must unset the old attachment first, since a user holds one policy at a time.
    list.resource(SF.userAuthenticationPolicyAttachment, principal.name, {
      userName: principal.logins.snowflake,
      authenticationPolicyName: policyName,
    }, { parent: access, deleteBeforeReplace: true, dependsOn: [user, policy] });
    users.set(principal.name, user);
  }
  return users;
}

interface SchemaAccess {
  schema: Schema;
  grants: readonly SchemaGrant[];
  database: string;
  roleRef: RoleReference;
  ownerRollUp: DeclaredResource | undefined;
}

/** One prod schema: managed access, protected, never dropped, with the writer's and readers' grants on it, under its own component. */
function prodSchema(list: ResourceList, access: DeclaredResource, args: SchemaAccess): void {
  const { schema, database } = args;
  const start = list.resources.length;
  const component = list.component("warehouse-access:snowflake:ProdSchema", schema.name, access);
  // Managed access: only the schema owner (the provisioner) grants here, so the writer's objects cannot be shared onward.
  const made = list.resource(SF.schema, schema.name, {
    name: snowflakeName(schema.name),
    database,
    withManagedAccess: "true",
    comment: comment(`production schema of domain ${schema.domain}; written only by prod_writer`),
  }, { parent: component, protect: true, retainOnDelete: true });
  declareSchemaAccess(list, component, made, args);
  component.outputs = { schema: `${database}.${snowflakeName(schema.name)}`, resourceCount: list.resources.length - start };
}

/** A schema's owner (handed over after creation: Snowflake cannot create a schema with one) and its grants. */
function declareSchemaAccess(list: ResourceList, parent: DeclaredResource, made: DeclaredResource, args: SchemaAccess): void {
  const { schema, grants, database, roleRef, ownerRollUp } = args;
  const inSchema = quoted(database, made.inputs.name as string);
  if (schema.owner !== null) {
    const owner = roleRef(schema.owner);
    // Deleting this hands the schema back to the provisioner, so replace delete-first or the new owner would lose it.
    // It waits for the owner's roll-up: Snowflake transfers ownership only to a role the provisioner's session holds.
    list.resource(SF.grantOwnership, schema.name, {
      accountRoleName: owner.name,
      outboundPrivileges: "COPY",
      on: { objectType: "SCHEMA", objectName: inSchema },
    }, { parent, deleteBeforeReplace: true, dependsOn: ownerRollUp ? [made, ...owner.dependsOn, ownerRollUp] : [made, ...owner.dependsOn] });
  }
  for (const grant of grants) {
    const prefix = `${schema.name}/${grant.role}`;
    const role = roleRef(grant.role);
    const accountRoleName = role.name;
    const after = { parent, dependsOn: [made, ...waitFor(role)] };
    if (grant.access === "write") {
      list.resource(SF.grantPrivileges, `${prefix}/write`, {
        accountRoleName,
        privileges: [...SNOWFLAKE_PRIVILEGES.write.schema],
        onSchema: { schemaName: inSchema },
      }, after);
      continue;
    }
    list.resource(SF.grantPrivileges, `${prefix}/usage`, {
      accountRoleName,
      privileges: [...SNOWFLAKE_PRIVILEGES.read.schema],
      onSchema: { schemaName: inSchema },
    }, after);
    // Schema-level future grants, because they override database-level ones in this schema.
    for (const scope of READ_SCOPES) {
      for (const kind of READ_OBJECT_KINDS) {
        list.resource(SF.grantPrivileges, `${prefix}/${scope}-${kind.toLowerCase()}`, {
          accountRoleName,
          privileges: [...SNOWFLAKE_PRIVILEGES.read.objects],
          onSchemaObject: { [scope]: { objectTypePlural: kind, inSchema } },
        }, after);
      }
    }
  }
}
