// The SQL terraform-provider-postgresql v1.27.0 writes per resource type, as text: cyrilgdn/terraform-provider-postgresql
// resource_postgresql_{role,schema,grant,default_privileges,grant_role,function}.go. How it runs them (transactions,
// advisory locks, self-grants, read-backs) is ./provider; the engine that decides what runs when is ./engine.

export const RESOURCE_TYPES = {
  role: "postgresql:index/role:Role",
  schema: "postgresql:index/schema:Schema",
  grant: "postgresql:index/grant:Grant",
  defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
  grantRole: "postgresql:index/grantRole:GrantRole",
  function: "postgresql:index/function:Function",
} as const;

export type Operation = "create" | "update" | "delete";

/** One SQL statement the applier ran, and for which resource. */
export interface AppliedStatement {
  resource: string;
  type: string;
  operation: Operation;
  database: string;
  sql: string;
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

/** An input as the provider reads it with d.Get: a string, or the fallback. */
export const str = (inputs: Record<string, unknown>, key: string, fallback = ""): string => {
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
/** A list or set of strings input; [] when unset. */
export const list = (inputs: Record<string, unknown>, key: string): string[] => {
  const value = inputs[key];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
};

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

/** resourcePostgreSQLRoleDelete, over the provider's own database connection: the owned objects (run with the role granted), then the role. */
export function roleDeleteStatements(inputs: Record<string, unknown>, username: string): { owned: string[]; role: string[] } {
  const role = roleSpec(inputs);
  const name = quoteIdentifier(role.name);
  return {
    owned: role.skipReassignOwned ? [] : [`REASSIGN OWNED BY ${name} TO ${quoteIdentifier(username)}`, `DROP OWNED BY ${name}`],
    role: role.skipDropRole ? [] : [`DROP ROLE ${name}`],
  };
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

/** resourcePostgreSQLSchemaDelete's DROP, RESTRICT unless drop_cascade. */
export function schemaDeleteStatements(inputs: Record<string, unknown>): string[] {
  const schema = schemaSpec(inputs);
  return [`DROP SCHEMA ${quoteIdentifier(schema.name)} ${schema.dropCascade ? "CASCADE" : "RESTRICT"}`];
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
