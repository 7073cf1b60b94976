// A faithful stand-in for terraform-provider-postgresql, not a second provisioning engine: it applies only what the program registered.
// SQL per resource type as in cyrilgdn/terraform-provider-postgresql (resource_postgresql_{role,schema,grant,default_privileges,
// grant_role,function}.go), steps in Pulumi's order and diff; any other resource type is refused, never guessed. Left out on purpose: advisory locks (one resource at a time here) and the temporary
// self-grants a non-superuser provisioner needs (withRolesGranted), hence the superuser connection it insists on.

import type pg from "pg";
import type { DeclaredResource } from "../platforms/declare";

export const RESOURCE_TYPES = {
  role: "postgresql:index/role:Role",
  schema: "postgresql:index/schema:Schema",
  grant: "postgresql:index/grant:Grant",
  defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
  grantRole: "postgresql:index/grantRole:GrantRole",
  function: "postgresql:index/function:Function",
} as const;

const SUPPORTED: ReadonlySet<string> = new Set(Object.values(RESOURCE_TYPES));

export type Operation = "create" | "update" | "delete";

/** One SQL statement the applier ran, and for which resource. */
export interface AppliedStatement {
  resource: string;
  type: string;
  operation: Operation;
  database: string;
  sql: string;
}

export interface ApplyOptions {
  /** A connection to `database` as the provider's user; the applier ends the clients it asked for. */
  connect(database: string): Promise<pg.Client>;
  /** The database the provider itself connects to (`postgresql:database`, "postgres" when unset): roles are created,
   *  altered and deleted over that connection, so REASSIGN OWNED / DROP OWNED reach only objects in that database. */
  providerDatabase: string;
  /** The provider's user name (`postgresql:username`): a deleted role's objects are reassigned to it. */
  username: string;
  /** The resources of the previous apply (the stack's state); what is missing now is deleted. */
  previous?: readonly DeclaredResource[];
  /** As `pulumi up --refresh`: re-run every unchanged Grant and DefaultPrivileges, which repairs drift in their scope
   *  exactly as the provider's update would (REVOKE then GRANT leaves an undrifted scope as it was). */
  refresh?: boolean;
  log?: (statement: AppliedStatement) => void;
}

export class ApplyError extends Error {
  constructor(
    message: string,
    readonly resource: string,
    readonly applied: AppliedStatement[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ApplyError";
  }
}

// ---------------------------------------------------------------- identifiers and inputs

/** lib/pq's QuoteIdentifier, which the provider uses for every name: cut at NUL, double the quotes, wrap in quotes. */
export function quoteIdentifier(name: string): string {
  const end = name.indexOf("\u0000");
  const cut = end === -1 ? name : name.slice(0, end);
  return `"${cut.replaceAll('"', '""')}"`;
}

/** The provider's pqQuoteLiteral for values it writes between single quotes. */
export const quoteLiteral = (value: string): string => `'${value.replaceAll("'", "''")}'`;

const str = (inputs: Record<string, unknown>, key: string, fallback = ""): string => {
  const value = inputs[key];
  return typeof value === "string" ? value : fallback;
};
const num = (inputs: Record<string, unknown>, key: string, fallback: number): number => {
  const value = inputs[key];
  return typeof value === "number" ? value : fallback;
};
const bool = (inputs: Record<string, unknown>, key: string, fallback: boolean): boolean => {
  const value = inputs[key];
  return typeof value === "boolean" ? value : fallback;
};
const list = (inputs: Record<string, unknown>, key: string): string[] => {
  const value = inputs[key];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
};

const keyOf = (resource: Pick<DeclaredResource, "type" | "name">): string => `${resource.type}::${resource.name}`;

// ---------------------------------------------------------------- Role

/** The provider's schema defaults for postgresql_role, under the Pulumi input names. */
function roleSpec(inputs: Record<string, unknown>) {
  return {
    name: str(inputs, "name"),
    password: str(inputs, "password"),
    encryptedPassword: bool(inputs, "encryptedPassword", true),
    validUntil: str(inputs, "validUntil", "infinity"),
    connectionLimit: num(inputs, "connectionLimit", -1),
    superuser: bool(inputs, "superuser", false),
    createDatabase: bool(inputs, "createDatabase", false),
    createRole: bool(inputs, "createRole", false),
    inherit: bool(inputs, "inherit", true),
    login: bool(inputs, "login", false),
    bypassRowLevelSecurity: bool(inputs, "bypassRowLevelSecurity", false),
    replication: bool(inputs, "replication", false),
    roles: list(inputs, "roles"),
    searchPath: list(inputs, "searchPaths"),
    statementTimeout: num(inputs, "statementTimeout", 0),
    idleInTransactionSessionTimeout: num(inputs, "idleInTransactionSessionTimeout", 0),
    assumeRole: str(inputs, "assumeRole"),
    skipDropRole: bool(inputs, "skipDropRole", false),
    skipReassignOwned: bool(inputs, "skipReassignOwned", false),
  };
}
type RoleSpec = ReturnType<typeof roleSpec>;

const ROLE_FLAGS: readonly [keyof RoleSpec, string, string][] = [
  ["superuser", "SUPERUSER", "NOSUPERUSER"],
  ["createDatabase", "CREATEDB", "NOCREATEDB"],
  ["createRole", "CREATEROLE", "NOCREATEROLE"],
  ["inherit", "INHERIT", "NOINHERIT"],
  ["login", "LOGIN", "NOLOGIN"],
  ["bypassRowLevelSecurity", "BYPASSRLS", "NOBYPASSRLS"],
  ["replication", "REPLICATION", "NOREPLICATION"],
];

function searchPathStatement(role: RoleSpec): string {
  const path = role.searchPath.length > 0 ? role.searchPath.map(quoteIdentifier).join(", ") : "DEFAULT";
  return `ALTER ROLE ${quoteIdentifier(role.name)} SET search_path TO ${path}`;
}

/** resourcePostgreSQLRoleCreate: CREATE ROLE with every option, then grantRoles, search_path and the settings that are set. */
export function roleCreateStatements(inputs: Record<string, unknown>): string[] {
  const role = roleSpec(inputs);
  const options: string[] = [];
  if (role.password !== "")
    options.push(role.password.toUpperCase() === "NULL" ? "PASSWORD NULL" : `${role.encryptedPassword ? "ENCRYPTED" : "UNENCRYPTED"} PASSWORD ${quoteLiteral(role.password)}`);
  if (role.validUntil !== "") options.push(`VALID UNTIL ${quoteLiteral(role.validUntil.toLowerCase() === "infinity" ? "infinity" : role.validUntil)}`);
  options.push(`CONNECTION LIMIT ${role.connectionLimit}`);
  for (const [key, on, off] of ROLE_FLAGS) options.push(role[key] ? on : off);
  const name = quoteIdentifier(role.name);
  return [
    `CREATE ROLE ${name} WITH ${options.join(" ")}`,
    ...role.roles.map((parent) => `GRANT ${quoteIdentifier(parent)} TO ${name}`),
    searchPathStatement(role),
    // On create, the provider's HasChange is true exactly for the settings that are set.
    ...(role.statementTimeout !== 0 ? [`ALTER ROLE ${name} SET statement_timeout TO ${role.statementTimeout}`] : []),
    ...(role.idleInTransactionSessionTimeout !== 0 ? [`ALTER ROLE ${name} SET idle_in_transaction_session_timeout TO ${role.idleInTransactionSessionTimeout}`] : []),
    ...(role.assumeRole !== "" ? [`ALTER ROLE ${name} SET ROLE TO ${quoteIdentifier(role.assumeRole)}`] : []),
  ];
}

/** resourcePostgreSQLRoleUpdate: each changed attribute, then revoke every current membership and grant the declared ones. */
export function roleUpdateStatements(before: Record<string, unknown>, after: Record<string, unknown>, currentMemberships: readonly string[]): string[] {
  const old = roleSpec(before);
  const role = roleSpec(after);
  const statements: string[] = [];
  if (old.name !== role.name) statements.push(`ALTER ROLE ${quoteIdentifier(old.name)} RENAME TO ${quoteIdentifier(role.name)}`);
  const name = quoteIdentifier(role.name);
  if (old.password !== role.password || old.name !== role.name) statements.push(`ALTER ROLE ${name} PASSWORD ${quoteLiteral(role.password)}`);
  const flag = (key: keyof RoleSpec, on: string, off: string) => {
    if (old[key] !== role[key]) statements.push(`ALTER ROLE ${name} WITH ${role[key] ? on : off}`);
  };
  flag("bypassRowLevelSecurity", "BYPASSRLS", "NOBYPASSRLS");
  if (old.connectionLimit !== role.connectionLimit) statements.push(`ALTER ROLE ${name} CONNECTION LIMIT ${role.connectionLimit}`);
  flag("createDatabase", "CREATEDB", "NOCREATEDB");
  flag("createRole", "CREATEROLE", "NOCREATEROLE");
  flag("inherit", "INHERIT", "NOINHERIT");
  flag("login", "LOGIN", "NOLOGIN");
  flag("replication", "REPLICATION", "NOREPLICATION");
  flag("superuser", "SUPERUSER", "NOSUPERUSER");
  if (old.validUntil !== role.validUntil && role.validUntil !== "")
    statements.push(`ALTER ROLE ${name} VALID UNTIL ${quoteLiteral(role.validUntil.toLowerCase() === "infinity" ? "infinity" : role.validUntil)}`);
  statements.push(...currentMemberships.map((parent) => `REVOKE ${quoteIdentifier(parent)} FROM ${name}`));
  statements.push(...role.roles.map((parent) => `GRANT ${quoteIdentifier(parent)} TO ${name}`));
  statements.push(searchPathStatement(role));
  if (old.statementTimeout !== role.statementTimeout)
    statements.push(role.statementTimeout !== 0 ? `ALTER ROLE ${name} SET statement_timeout TO ${role.statementTimeout}` : `ALTER ROLE ${name} RESET statement_timeout`);
  if (old.idleInTransactionSessionTimeout !== role.idleInTransactionSessionTimeout)
    statements.push(
      role.idleInTransactionSessionTimeout !== 0
        ? `ALTER ROLE ${name} SET idle_in_transaction_session_timeout TO ${role.idleInTransactionSessionTimeout}`
        : `ALTER ROLE ${name} RESET idle_in_transaction_session_timeout`,
    );
  if (old.assumeRole !== role.assumeRole)
    statements.push(role.assumeRole !== "" ? `ALTER ROLE ${name} SET ROLE TO ${quoteIdentifier(role.assumeRole)}` : `ALTER ROLE ${name} RESET ROLE`);
  return statements;
}

/** resourcePostgreSQLRoleDelete, over the provider's own database connection. */
export function roleDeleteStatements(inputs: Record<string, unknown>, username: string): string[] {
  const role = roleSpec(inputs);
  const name = quoteIdentifier(role.name);
  return [
    ...(role.skipReassignOwned ? [] : [`REASSIGN OWNED BY ${name} TO ${quoteIdentifier(username)}`, `DROP OWNED BY ${name}`]),
    ...(role.skipDropRole ? [] : [`DROP ROLE ${name}`]),
  ];
}

// ---------------------------------------------------------------- Schema

function schemaSpec(inputs: Record<string, unknown>) {
  return {
    name: str(inputs, "name"),
    owner: str(inputs, "owner"),
    database: str(inputs, "database"),
    ifNotExists: bool(inputs, "ifNotExists", true),
    dropCascade: bool(inputs, "dropCascade", false),
  };
}

/** createSchema: CREATE SCHEMA when absent; when present, only the owner is set (and only if one is declared). */
export function schemaCreateStatements(inputs: Record<string, unknown>, exists: boolean): string[] {
  const schema = schemaSpec(inputs);
  if (exists) return schema.owner === "" ? [] : [`ALTER SCHEMA ${quoteIdentifier(schema.name)} OWNER TO ${quoteIdentifier(schema.owner)}`];
  const authorization = schema.owner === "" ? "" : ` AUTHORIZATION ${quoteIdentifier(schema.owner)}`;
  return [`CREATE SCHEMA ${schema.ifNotExists ? "IF NOT EXISTS " : ""}${quoteIdentifier(schema.name)}${authorization}`];
}

export function schemaUpdateStatements(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const old = schemaSpec(before);
  const schema = schemaSpec(after);
  const statements: string[] = [];
  if (old.name !== schema.name) statements.push(`ALTER SCHEMA ${quoteIdentifier(old.name)} RENAME TO ${quoteIdentifier(schema.name)}`);
  if (old.owner !== schema.owner && schema.owner !== "") statements.push(`ALTER SCHEMA ${quoteIdentifier(schema.name)} OWNER TO ${quoteIdentifier(schema.owner)}`);
  return statements;
}

export function schemaDeleteStatements(inputs: Record<string, unknown>): string[] {
  const schema = schemaSpec(inputs);
  return [`DROP SCHEMA ${quoteIdentifier(schema.name)}${schema.dropCascade ? " CASCADE" : ""}`];
}

// ---------------------------------------------------------------- Grant

const ALLOWED_PRIVILEGES: Record<string, readonly string[]> = {
  database: ["ALL", "CREATE", "CONNECT", "TEMPORARY"],
  schema: ["ALL", "CREATE", "USAGE"],
  table: ["ALL", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"],
  sequence: ["ALL", "USAGE", "SELECT", "UPDATE"],
  function: ["ALL", "EXECUTE"],
  procedure: ["ALL", "EXECUTE"],
  routine: ["ALL", "EXECUTE"],
};

function grantSpec(inputs: Record<string, unknown>) {
  return {
    database: str(inputs, "database"),
    schema: str(inputs, "schema"),
    objectType: str(inputs, "objectType"),
    objects: list(inputs, "objects"),
    privileges: list(inputs, "privileges"),
    role: str(inputs, "role"),
    withGrantOption: bool(inputs, "withGrantOption", false),
  };
}
type GrantSpec = ReturnType<typeof grantSpec>;

/** validatePrivileges and the argument checks of resourcePostgreSQLGrantCreateOrUpdate. */
function validateGrant(grant: GrantSpec): void {
  const allowed = ALLOWED_PRIVILEGES[grant.objectType];
  if (!allowed) throw new Error(`object_type ${JSON.stringify(grant.objectType)} is not supported by the sandbox applier`);
  if (grant.schema === "" && grant.objectType !== "database") throw new Error("parameter 'schema' is mandatory for postgresql_grant resource");
  if (grant.objects.length > 0 && (grant.objectType === "database" || grant.objectType === "schema"))
    throw new Error("cannot specify `objects` when `object_type` is `database` or `schema`");
  for (const privilege of grant.privileges)
    if (!allowed.includes(privilege.toUpperCase())) throw new Error(`${privilege} is not an allowed privilege for object type ${grant.objectType}`);
}

const qualified = (schema: string, objects: readonly string[]): string => objects.map((o) => `${quoteIdentifier(schema)}.${quoteIdentifier(o)}`).join(",");

/** createRevokeQuery: the whole scope (role × object type × schema or database), whatever the privileges. */
export function grantRevokeStatement(inputs: Record<string, unknown>): string {
  const grant = grantSpec(inputs);
  const role = quoteIdentifier(grant.role);
  switch (grant.objectType) {
    case "database":
      return `REVOKE ALL PRIVILEGES ON DATABASE ${quoteIdentifier(grant.database)} FROM ${role}`;
    case "schema":
      return `REVOKE ALL PRIVILEGES ON SCHEMA ${quoteIdentifier(grant.schema)} FROM ${role}`;
    default: {
      const type = grant.objectType.toUpperCase();
      if (grant.objects.length === 0) return `REVOKE ALL PRIVILEGES ON ALL ${type}S IN SCHEMA ${quoteIdentifier(grant.schema)} FROM ${role}`;
      const what = grant.privileges.length > 0 ? grant.privileges.join(",") : "ALL PRIVILEGES";
      return `REVOKE ${what} ON ${type} ${qualified(grant.schema, grant.objects)} FROM ${role}`;
    }
  }
}

/** createGrantQuery; undefined for `privileges: []`, which the provider turns into the revoke alone. */
export function grantGrantStatement(inputs: Record<string, unknown>): string | undefined {
  const grant = grantSpec(inputs);
  if (grant.privileges.length === 0) return undefined;
  const privileges = grant.privileges.join(",");
  const role = quoteIdentifier(grant.role);
  const suffix = grant.withGrantOption ? " WITH GRANT OPTION" : "";
  switch (grant.objectType) {
    case "database":
      return `GRANT ${privileges} ON DATABASE ${quoteIdentifier(grant.database)} TO ${role}${suffix}`;
    case "schema":
      return `GRANT ${privileges} ON SCHEMA ${quoteIdentifier(grant.schema)} TO ${role}${suffix}`;
    default: {
      const type = grant.objectType.toUpperCase();
      if (grant.objects.length === 0) return `GRANT ${privileges} ON ALL ${type}S IN SCHEMA ${quoteIdentifier(grant.schema)} TO ${role}${suffix}`;
      return `GRANT ${privileges} ON ${type} ${qualified(grant.schema, grant.objects)} TO ${role}${suffix}`;
    }
  }
}

/** Create and update are the same for a grant: REVOKE the scope, then GRANT, in one transaction. */
export function grantApplyStatements(inputs: Record<string, unknown>): string[] {
  validateGrant(grantSpec(inputs));
  const grant = grantGrantStatement(inputs);
  return [grantRevokeStatement(inputs), ...(grant ? [grant] : [])];
}

// ---------------------------------------------------------------- DefaultPrivileges

function defaultPrivilegesSpec(inputs: Record<string, unknown>) {
  return {
    database: str(inputs, "database"),
    schema: str(inputs, "schema"),
    owner: str(inputs, "owner"),
    role: str(inputs, "role"),
    objectType: str(inputs, "objectType"),
    privileges: list(inputs, "privileges"),
    withGrantOption: bool(inputs, "withGrantOption", false),
  };
}

const defaultPrivilegesPrefix = (d: ReturnType<typeof defaultPrivilegesSpec>): string =>
  `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdentifier(d.owner)}${d.schema === "" ? "" : ` IN SCHEMA ${quoteIdentifier(d.schema)}`}`;

export function defaultPrivilegesRevokeStatement(inputs: Record<string, unknown>): string {
  const d = defaultPrivilegesSpec(inputs);
  return `${defaultPrivilegesPrefix(d)} REVOKE ALL ON ${d.objectType.toUpperCase()}S FROM ${quoteIdentifier(d.role)}`;
}

/** resourcePostgreSQLDefaultPrivilegesCreate (also its update): revoke the role's defaults for the owner, then grant. */
export function defaultPrivilegesApplyStatements(inputs: Record<string, unknown>): string[] {
  const d = defaultPrivilegesSpec(inputs);
  if (d.owner === "") throw new Error("must specify either `owner` or `for_all_roles = true`");
  const statements = [defaultPrivilegesRevokeStatement(inputs)];
  if (d.privileges.length > 0)
    statements.push(
      `${defaultPrivilegesPrefix(d)} GRANT ${d.privileges.join(",")} ON ${d.objectType.toUpperCase()}S TO ${quoteIdentifier(d.role)}${d.withGrantOption ? " WITH GRANT OPTION" : ""}`,
    );
  return statements;
}

// ---------------------------------------------------------------- GrantRole

/** resourcePostgreSQLGrantRoleCreate: revoke the membership, then grant it, so the admin option is exactly as declared. */
export function grantRoleCreateStatements(inputs: Record<string, unknown>): string[] {
  const admin = bool(inputs, "withAdminOption", false) ? " WITH ADMIN OPTION" : "";
  return [...grantRoleDeleteStatements(inputs), `GRANT ${quoteIdentifier(str(inputs, "grantRole"))} TO ${quoteIdentifier(str(inputs, "role"))}${admin}`];
}

export function grantRoleDeleteStatements(inputs: Record<string, unknown>): string[] {
  return [`REVOKE ${quoteIdentifier(str(inputs, "grantRole"))} FROM ${quoteIdentifier(str(inputs, "role"))}`];
}

// ---------------------------------------------------------------- Function

interface FunctionArgSpec {
  name: string;
  type: string;
  mode: string;
  default: string;
}

/** PGFunction.FromResourceData: the provider's defaults (schema public, plpgsql, arg mode IN, returns the OUT type or void). */
function functionSpec(inputs: Record<string, unknown>) {
  const rawArgs = Array.isArray(inputs.args) ? (inputs.args as Record<string, unknown>[]) : [];
  const args: FunctionArgSpec[] = rawArgs.map((a) => ({ name: str(a, "name"), type: str(a, "type"), mode: str(a, "mode", "IN"), default: str(a, "default") }));
  const out = args.filter((a) => a.mode.toUpperCase() === "OUT").pop();
  return {
    database: str(inputs, "database"),
    schema: str(inputs, "schema", "public") || "public",
    name: str(inputs, "name"),
    args,
    returns: str(inputs, "returns") || (out ? out.type : "void"),
    language: str(inputs, "language") || "plpgsql",
    body: normalizeFunctionBody(str(inputs, "body")),
    volatility: str(inputs, "volatility") || "VOLATILE",
    parallel: str(inputs, "parallel") || "UNSAFE",
    securityDefiner: bool(inputs, "securityDefiner", false),
    strict: bool(inputs, "strict", false),
    dropCascade: bool(inputs, "dropCascade", false),
  };
}

/** normalizeFunctionBody: a body given with its `$tag$ ... $tag$` wrapper loses it (Go's (?si) regexp, same greedy semantics). */
export function normalizeFunctionBody(body: string): string {
  const match = /^.*\$[a-zA-Z]*\$\s(.*)\s\$[a-zA-Z]*\$.*$/is.exec(body);
  return match ? match[1]! : body;
}

function validateFunction(f: ReturnType<typeof functionSpec>): void {
  if (!["VOLATILE", "STABLE", "IMMUTABLE"].includes(f.volatility)) throw new Error(`expected volatility to be one of [VOLATILE STABLE IMMUTABLE], got ${f.volatility}`);
  if (!["UNSAFE", "RESTRICTED", "SAFE"].includes(f.parallel)) throw new Error(`expected parallel to be one of [UNSAFE RESTRICTED SAFE], got ${f.parallel}`);
  if (f.name === "") throw new Error("function name is required");
}

/** createFunction: CREATE FUNCTION on create, CREATE OR REPLACE on update (spacing as the provider writes it); defaults left unsaid. */
export function functionCreateStatements(inputs: Record<string, unknown>, replace = false): string[] {
  const f = functionSpec(inputs);
  validateFunction(f);
  const args = f.args.map((a) => `\n    ${a.mode === "" ? "" : `${a.mode} `}${a.name === "" ? "" : `${a.name} `}${a.type}${a.default === "" ? "" : ` DEFAULT ${a.default}`}`);
  return [
    `CREATE ${replace ? " OR REPLACE " : ""}FUNCTION ${quoteIdentifier(f.schema)}.${quoteIdentifier(f.name)} (${args.join(",")}${args.length > 0 ? "\n" : ""})` +
      `\nRETURNS ${f.returns}\nLANGUAGE ${f.language}` +
      (f.volatility !== "VOLATILE" ? `\n${f.volatility}` : "") +
      (f.securityDefiner ? "\nSECURITY DEFINER" : "") +
      (f.parallel !== "UNSAFE" ? `\nPARALLEL ${f.parallel}` : "") +
      (f.strict ? "\nSTRICT" : "") +
      `\nAS $function$${f.body}$function$;`,
  ];
}

/** The function's id as quoteSignature makes it: quoted schema and name, the non-OUT argument types as written. */
export function functionSignature(inputs: Record<string, unknown>): string {
  const f = functionSpec(inputs);
  const types = f.args.filter((a) => (a.mode || "IN").toUpperCase() !== "OUT").map((a) => a.type);
  return `${quoteIdentifier(f.schema)}.${quoteIdentifier(f.name)}(${types.join(",")})`;
}

export function functionDeleteStatements(inputs: Record<string, unknown>): string[] {
  return [`DROP FUNCTION IF EXISTS ${functionSignature(inputs)} ${functionSpec(inputs).dropCascade ? "CASCADE" : "RESTRICT"}`];
}

// ---------------------------------------------------------------- the plan: Pulumi's diff and order

/** Inputs that force a replacement (ForceNew in the provider's schema); any other change is an in-place update. */
const FORCE_NEW: Record<string, readonly string[]> = {
  [RESOURCE_TYPES.role]: [],
  [RESOURCE_TYPES.schema]: ["database"],
  [RESOURCE_TYPES.grant]: ["role", "database", "schema", "objectType", "objects", "columns", "withGrantOption"],
  [RESOURCE_TYPES.defaultPrivileges]: ["role", "database", "owner", "forAllRoles", "schema", "objectType", "withGrantOption"],
  [RESOURCE_TYPES.grantRole]: ["role", "grantRole", "withAdminOption"],
  // The body, volatility, security, strictness and parallel safety change in place (CREATE OR REPLACE); the signature cannot.
  [RESOURCE_TYPES.function]: ["schema", "name", "args", "language", "returns", "database"],
};

export interface PlannedStep {
  operation: Operation;
  resource: DeclaredResource;
  /** For an update: the inputs before. */
  before?: DeclaredResource;
  /** Why this step is taken, in Pulumi's words. */
  reason: "create" | "update" | "refresh" | "replace" | "delete";
}

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Names a resource refers to, so it is applied after them (the list names resources literally, with no output edges). */
function references(resource: DeclaredResource): { roles: string[]; schemas: string[] } {
  const i = resource.inputs;
  const role = (key: string) => (typeof i[key] === "string" && i[key] !== "public" ? [i[key] as string] : []);
  switch (resource.type) {
    case RESOURCE_TYPES.role:
      return { roles: list(i, "roles").concat(role("assumeRole")), schemas: [] };
    case RESOURCE_TYPES.schema:
      return { roles: role("owner"), schemas: [] };
    case RESOURCE_TYPES.grant:
      return { roles: role("role"), schemas: str(i, "objectType") === "database" ? [] : [str(i, "schema")] };
    case RESOURCE_TYPES.defaultPrivileges:
      return { roles: [...role("owner"), ...role("role")], schemas: [str(i, "schema")] };
    case RESOURCE_TYPES.grantRole:
      return { roles: [...role("role"), ...role("grantRole")], schemas: [] };
    case RESOURCE_TYPES.function:
      return { roles: [], schemas: [str(i, "schema", "public") || "public"] };
    default:
      return { roles: [], schemas: [] };
  }
}

/** Registration order, except that a resource waits for its dependsOn and for the roles and schemas it names. */
export function dependencyOrder(resources: readonly DeclaredResource[]): DeclaredResource[] {
  const custom = resources.filter((r) => SUPPORTED.has(r.type));
  const index = new Map(custom.map((r, i) => [r, i]));
  const byRoleName = new Map<string, DeclaredResource>();
  const bySchemaName = new Map<string, DeclaredResource>();
  for (const r of custom) {
    const name = str(r.inputs, "name");
    if (r.type === RESOURCE_TYPES.role) byRoleName.set(name, r);
    if (r.type === RESOURCE_TYPES.schema) bySchemaName.set(name, r);
  }
  const deps = new Map<DeclaredResource, Set<DeclaredResource>>();
  for (const r of custom) {
    const set = new Set<DeclaredResource>();
    const own = index.get(r)!;
    for (const name of r.dependsOn) {
      // A logical name may be shared across types; the dependency is the latest one registered before this resource.
      const candidates = custom.filter((c) => c.name === name && index.get(c)! < own);
      const found = candidates[candidates.length - 1];
      if (found) set.add(found);
    }
    const { roles, schemas } = references(r);
    for (const name of roles) {
      const found = byRoleName.get(name);
      if (found && found !== r) set.add(found);
    }
    for (const name of schemas) {
      const found = bySchemaName.get(name);
      if (found && found !== r) set.add(found);
    }
    deps.set(r, set);
  }
  const done = new Set<DeclaredResource>();
  const ordered: DeclaredResource[] = [];
  while (ordered.length < custom.length) {
    const next = custom.find((r) => !done.has(r) && [...deps.get(r)!].every((d) => done.has(d)));
    if (!next) throw new Error(`dependency cycle among: ${custom.filter((r) => !done.has(r)).map((r) => r.name).join(", ")}`);
    done.add(next);
    ordered.push(next);
  }
  return ordered;
}

/** Pulumi's steps from the previous resources to the next: creates and updates in dependency order, then deletes in reverse. */
export function planSteps(next: readonly DeclaredResource[], previous: readonly DeclaredResource[] = [], refresh = false): PlannedStep[] {
  const unsupported = next.filter((r) => r.custom && !SUPPORTED.has(r.type));
  if (unsupported.length > 0) throw new Error(`the sandbox applier does not know ${[...new Set(unsupported.map((r) => r.type))].join(", ")}`);
  const before = new Map(previous.filter((r) => SUPPORTED.has(r.type)).map((r) => [keyOf(r), r]));
  const nextKeys = new Set(next.map(keyOf));
  const steps: PlannedStep[] = [];
  const deleteLater: DeclaredResource[] = [];

  const replaced = new Set<string>();
  for (const resource of dependencyOrder(next)) {
    const old = before.get(keyOf(resource));
    if (!old) {
      steps.push({ operation: "create", resource, reason: "create" });
      continue;
    }
    const changed = [...new Set([...Object.keys(old.inputs), ...Object.keys(resource.inputs)])].filter((k) => !sameValue(old.inputs[k], resource.inputs[k]));
    // replaceWith: Pulumi replaces this resource whenever one it names is replaced.
    const replace = changed.some((k) => FORCE_NEW[resource.type]!.includes(k)) || (resource.replaceWith ?? []).some((name) => replaced.has(name));
    if (replace) replaced.add(resource.name);
    if (replace) {
      if (old.protect) throw new Error(`${resource.name}: replacing it would delete it, and it is protected`);
      if (resource.deleteBeforeReplace) {
        steps.push({ operation: "delete", resource: old, reason: "replace" }, { operation: "create", resource, reason: "replace" });
      } else {
        steps.push({ operation: "create", resource, reason: "replace" });
        deleteLater.push(old);
      }
    } else if (changed.length > 0) {
      steps.push({ operation: "update", resource, before: old, reason: "update" });
    } else if (refresh && (resource.type === RESOURCE_TYPES.grant || resource.type === RESOURCE_TYPES.defaultPrivileges)) {
      steps.push({ operation: "update", resource, before: old, reason: "refresh" });
    }
  }

  const removed = dependencyOrder(previous).filter((r) => !nextKeys.has(keyOf(r)));
  for (const resource of deleteLater) steps.push({ operation: "delete", resource, reason: "replace" });
  for (const resource of removed.reverse()) {
    if (resource.protect) throw new Error(`${resource.name}: removing it would delete it, and it is protected (D6)`);
    steps.push({ operation: "delete", resource, reason: "delete" });
  }
  return steps;
}

// ---------------------------------------------------------------- applying

/** Applies `resources` (after `options.previous`, if given) and returns every statement it ran. */
export async function applyResources(resources: readonly DeclaredResource[], options: ApplyOptions): Promise<AppliedStatement[]> {
  const steps = planSteps(resources, options.previous ?? [], options.refresh ?? false);
  const clients = new Map<string, pg.Client>();
  const applied: AppliedStatement[] = [];
  const client = async (database: string): Promise<pg.Client> => {
    const existing = clients.get(database);
    if (existing) return existing;
    const fresh = await options.connect(database);
    clients.set(database, fresh);
    const su = await fresh.query<{ rolsuper: boolean }>("SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
    if (su.rows[0]?.rolsuper !== true)
      throw new Error("the sandbox applier needs a superuser connection: it leaves out the provider's temporary self-grants (withRolesGranted)");
    return fresh;
  };

  try {
    for (const step of steps) {
      const { resource } = step;
      const database = resource.type === RESOURCE_TYPES.role || resource.type === RESOURCE_TYPES.grantRole
        ? options.providerDatabase
        : str(resource.inputs, "database", options.providerDatabase);
      if (step.operation === "delete" && resource.retainOnDelete) continue;
      const db = await client(database);
      const run = async (sql: string) => {
        const entry: AppliedStatement = { resource: resource.name, type: resource.type, operation: step.operation, database, sql };
        await db.query(sql);
        applied.push(entry);
        options.log?.(entry);
      };
      // Each resource operation is one transaction, as in the provider.
      await db.query("BEGIN");
      try {
        for (const sql of await statementsFor(step, db, options.username)) await run(sql);
        await db.query("COMMIT");
      } catch (error) {
        await db.query("ROLLBACK").catch(() => undefined);
        throw new ApplyError(`${step.operation} ${resource.name}: ${(error as Error).message}`, resource.name, applied, { cause: error });
      }
    }
  } finally {
    await Promise.allSettled([...clients.values()].map((c) => c.end()));
  }
  return applied;
}

/** The statements for one step; the few the provider decides from the catalog are decided here the same way. */
async function statementsFor(step: PlannedStep, db: pg.Client, username: string): Promise<string[]> {
  const { resource, operation } = step;
  const inputs = resource.inputs;
  switch (resource.type) {
    case RESOURCE_TYPES.role: {
      if (operation === "create") return roleCreateStatements(inputs);
      if (operation === "delete") return roleDeleteStatements(inputs, username);
      const name = str(step.before!.inputs, "name");
      const current = await db.query<{ role: string }>(
        "SELECT pg_get_userbyid(m.roleid) AS role FROM pg_auth_members m JOIN pg_roles r ON m.member = r.oid WHERE r.rolname = $1",
        [name],
      );
      return roleUpdateStatements(step.before!.inputs, inputs, current.rows.map((r) => r.role));
    }
    case RESOURCE_TYPES.schema: {
      if (operation === "delete") return schemaDeleteStatements(inputs);
      if (operation === "update") return schemaUpdateStatements(step.before!.inputs, inputs);
      const found = await db.query("SELECT TRUE FROM pg_catalog.pg_namespace WHERE nspname = $1", [str(inputs, "name")]);
      return schemaCreateStatements(inputs, (found.rowCount ?? 0) > 0);
    }
    case RESOURCE_TYPES.grant: {
      if (operation !== "delete") return grantApplyStatements(inputs);
      // A grant whose schema is already gone is treated as destroyed.
      if (str(inputs, "objectType") !== "database") {
        const found = await db.query("SELECT TRUE FROM pg_catalog.pg_namespace WHERE nspname = $1", [str(inputs, "schema")]);
        if ((found.rowCount ?? 0) === 0) return [];
      }
      return [grantRevokeStatement(inputs)];
    }
    case RESOURCE_TYPES.defaultPrivileges:
      return operation === "delete" ? [defaultPrivilegesRevokeStatement(inputs)] : defaultPrivilegesApplyStatements(inputs);
    case RESOURCE_TYPES.grantRole:
      if (operation === "create") return grantRoleCreateStatements(inputs);
      if (operation === "delete") return grantRoleDeleteStatements(inputs);
      return [...grantRoleDeleteStatements(step.before!.inputs), ...grantRoleCreateStatements(inputs)];
    case RESOURCE_TYPES.function:
      if (operation === "delete") return functionDeleteStatements(inputs);
      return functionCreateStatements(inputs, operation === "update");
    default:
      throw new Error(`the sandbox applier does not know ${resource.type}`);
  }
}
