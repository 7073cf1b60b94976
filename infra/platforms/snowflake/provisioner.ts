import type { DeclaredResource } from "../resources";
import { identifierParts, objectName } from "./identifiers";
import { SNOWFLAKE_TYPES } from "./interpret";

// The SQL an account administrator runs once so that the provisioner's own role can deploy the declared resources:
// derived from them, so a new kind of resource, warehouse or schema shows up here (and in the README, which a test
// compares). Each requirement is Snowflake's "Access control requirements" for the statement the provider runs.
// What the role creates it owns, and needs nothing more on: grants in its own schemas, roll-ups of its own roles.

export interface ProvisionerIdentity {
  /** snowflake:role and adminRole. */
  role: string;
  /** snowflake:user. */
  user: string;
  /** snowflake:warehouse: the provider's session runs on it. */
  warehouse: string;
}

type Target = { kind: "ACCOUNT" } | { kind: "DATABASE" | "SCHEMA" | "WAREHOUSE"; name: string };

interface Requirement {
  on: Target;
  privilege: string;
  /** The role grants the privilege on to the stack's roles, which takes WITH GRANT OPTION. */
  grantOption: boolean;
  why: string;
}

const KIND_ORDER = ["ACCOUNT", "DATABASE", "SCHEMA", "WAREHOUSE"] as const;
const targetName = (on: Target): string => (on.kind === "ACCOUNT" ? "ACCOUNT" : `${on.kind} ${on.name}`);

/** What each declared resource needs its creator to hold; nothing for what the role itself owns. */
function requirements(resources: readonly DeclaredResource[], identity: ProvisionerIdentity): Requirement[] {
  const needs: Requirement[] = [];
  const need = (on: Target, privilege: string, why: string, grantOption = false) => needs.push({ on, privilege, grantOption, why });
  const made = new Set(resources.filter((r) => r.type === SNOWFLAKE_TYPES.schema).map((r) => `${r.inputs.database as string}.${r.inputs.name as string}`));
  const inSchema = (database: string, schema: string, privilege: string, why: string) => {
    need({ kind: "DATABASE", name: database }, "USAGE", "it grants USAGE on to the roles");
    if (made.has(`${database}.${schema}`)) return;
    need({ kind: "SCHEMA", name: `${database}.${schema}` }, "USAGE", "it works in this schema, which it does not create");
    need({ kind: "SCHEMA", name: `${database}.${schema}` }, privilege, why);
  };
  for (const r of resources) {
    const i = r.inputs as Record<string, any>;
    switch (r.type) {
      case SNOWFLAKE_TYPES.accountRole:
        need({ kind: "ACCOUNT" }, "CREATE ROLE", "the stack's roles");
        break;
      case SNOWFLAKE_TYPES.serviceUser:
        need({ kind: "ACCOUNT" }, "CREATE USER", "its service users");
        break;
      case SNOWFLAKE_TYPES.userAuthenticationPolicy:
        // ALTER USER ... SET AUTHENTICATION POLICY: APPLY AUTHENTICATION POLICY on the account (docs "Authentication policies").
        need({ kind: "ACCOUNT" }, "APPLY AUTHENTICATION POLICY", "the key-pair-only policy on the service users");
        break;
      case SNOWFLAKE_TYPES.schema:
        need({ kind: "DATABASE", name: i.database }, "USAGE", "it grants USAGE on to the roles");
        need({ kind: "DATABASE", name: i.database }, "CREATE SCHEMA", "prod, developer and (through CREATE_CI_SCHEMA) CI schemas");
        break;
      case SNOWFLAKE_TYPES.procedureSql:
        inSchema(i.database, i.schema, "CREATE PROCEDURE", "CREATE_CI_SCHEMA");
        break;
      case SNOWFLAKE_TYPES.authenticationPolicy:
        inSchema(i.database, i.schema, "CREATE AUTHENTICATION POLICY", "the service users' policy");
        break;
      case SNOWFLAKE_TYPES.grantPrivileges: {
        // GRANT <privileges>: the grantor owns the object or holds the privilege WITH GRANT OPTION (docs "GRANT <privileges>").
        const object = i.onAccountObject as { objectType: string; objectName: string } | undefined;
        if (object?.objectType === "DATABASE" || object?.objectType === "WAREHOUSE")
          for (const privilege of i.privileges as string[])
            need({ kind: object.objectType, name: objectName(object.objectName) }, privilege, object.objectType === "DATABASE" ? "it grants USAGE on to the roles" : "the roles run on it", true);
        const schema = i.onSchema?.schemaName as string | undefined;
        const [database, name] = schema === undefined ? [] : identifierParts(schema);
        if (database !== undefined && name !== undefined && !made.has(`${database}.${name}`))
          for (const privilege of i.privileges as string[])
            need({ kind: "SCHEMA", name: `${database}.${name}` }, privilege, "CI_BUILDER calls the procedure there", true);
        break;
      }
      case SNOWFLAKE_TYPES.grantAccountRole:
      case SNOWFLAKE_TYPES.grantOwnership:
        break; // Its own roles and schemas: their owner grants and hands them over.
      default:
        if (r.custom) throw new Error(`${r.type} ${r.name}: no rule says what the provisioner's role needs to create it; add one to provisioner.ts`);
    }
  }
  need({ kind: "WAREHOUSE", name: identity.warehouse }, "USAGE", "snowflake:warehouse: the provider's session");
  return needs;
}

/** The administrator's SQL, one statement a line, with why each grant is there. */
export function provisionerSql(resources: readonly DeclaredResource[], identity: ProvisionerIdentity): string[] {
  const { role, user } = identity;
  // One line per object and grant option; a privilege held WITH GRANT OPTION needs no second line without it.
  const lines = new Map<string, { on: Target; grantOption: boolean; why: Map<string, Set<string>> }>();
  const needs = requirements(resources, identity);
  const withOption = new Set(needs.filter((n) => n.grantOption).map((n) => `${targetName(n.on)}\u0000${n.privilege}`));
  for (const n of needs) {
    const grantOption = n.grantOption || withOption.has(`${targetName(n.on)}\u0000${n.privilege}`);
    const key = `${KIND_ORDER.indexOf(n.on.kind)}\u0000${targetName(n.on)}\u0000${grantOption ? 0 : 1}`;
    const line = lines.get(key) ?? lines.set(key, { on: n.on, grantOption, why: new Map() }).get(key)!;
    (line.why.get(n.privilege) ?? line.why.set(n.privilege, new Set()).get(n.privilege)!).add(n.why);
  }
  const grants = [...lines.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);
  const statement = (l: (typeof grants)[number]) => {
    const privileges = [...l.why.keys()].sort();
    const why = privileges.length === 1
      ? [...l.why.get(privileges[0]!)!].join("; ")
      : privileges.map((p) => `${p}: ${[...l.why.get(p)!].join("; ")}`).join("; ");
    return `GRANT ${privileges.join(", ")} ON ${targetName(l.on)} TO ROLE ${role}${l.grantOption ? " WITH GRANT OPTION" : ""};  -- ${why}`;
  };
  return [
    "USE ROLE SECURITYADMIN;",
    `CREATE ROLE ${role} COMMENT = 'warehouse-access: the role pulumi up runs as';`,
    `GRANT ROLE ${role} TO USER ${user};  -- and to no other role: not to SYSADMIN`,
    ...grants.filter((l) => l.on.kind === "ACCOUNT").map(statement),
    "USE ROLE SYSADMIN;  -- or whichever role owns the database, the policy schema and the warehouses",
    ...grants.filter((l) => l.on.kind !== "ACCOUNT").map(statement),
  ];
}
