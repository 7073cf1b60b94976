// Reads Snowflake resources (as the declared list, a stack, or hand-written code would declare them) back into who can read or
// write each schema, and who can create schemas. It knows Snowflake's and the provider's semantics, not our naming, so
// it also sees access that resources written outside the generator add. Write is judged conservatively; read only when
// it is whole. Of procedures it reads only CREATE_CI_SCHEMA's exact body; any other owner's-rights one acts as its owner.

import type { DeclaredResource } from "../declare";
import { record, strings, text } from "../inputs";
import { CI_SCHEMA_NAMES, ciSchemaCreatorOf } from "./ci-schemas";
import { identifierParts, objectName, quoted } from "./identifiers";
import { OBJECT_READ_PRIVILEGES, OBJECT_WRITE_PRIVILEGES, READ_OBJECT_KINDS, READ_SCOPES, isSchemaWrite } from "./privileges";

export const SNOWFLAKE_TYPES = {
  accountRole: "snowflake:index/accountRole:AccountRole",
  grantAccountRole: "snowflake:index/grantAccountRole:GrantAccountRole",
  grantPrivileges: "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole",
  grantOwnership: "snowflake:index/grantOwnership:GrantOwnership",
  schema: "snowflake:index/schema:Schema",
  serviceUser: "snowflake:index/serviceUser:ServiceUser",
  legacyServiceUser: "snowflake:index/legacyServiceUser:LegacyServiceUser",
  user: "snowflake:index/user:User",
  authenticationPolicy: "snowflake:index/authenticationPolicy:AuthenticationPolicy",
  userAuthenticationPolicy: "snowflake:index/userAuthenticationPolicyAttachment:UserAuthenticationPolicyAttachment",
  procedureSql: "snowflake:index/procedureSql:ProcedureSql",
  procedureJavascript: "snowflake:index/procedureJavascript:ProcedureJavascript",
  procedurePython: "snowflake:index/procedurePython:ProcedurePython",
  procedureJava: "snowflake:index/procedureJava:ProcedureJava",
  procedureScala: "snowflake:index/procedureScala:ProcedureScala",
} as const;

const PROCEDURE_TYPES: ReadonlySet<string> = new Set([
  SNOWFLAKE_TYPES.procedureSql, SNOWFLAKE_TYPES.procedureJavascript, SNOWFLAKE_TYPES.procedurePython,
  SNOWFLAKE_TYPES.procedureJava, SNOWFLAKE_TYPES.procedureScala,
]);

/** The `names` of a SchemaCreation made with CREATE SCHEMA on the database: any name, PROD_ ones included. */
export const ANY_SCHEMA_NAME = "*";

/** Every Snowflake user holds PUBLIC, and so does every role. */
export const SNOWFLAKE_PUBLIC = "PUBLIC";

export interface HolderAccess {
  /** A Snowflake user, or for admin access the provisioner's role. Names are exact, as Snowflake stores them. */
  holder: string;
  database: string;
  schema: string;
  access: "read" | "write";
}

export interface SchemaFacts {
  database: string;
  schema: string;
  /** The role that owns the schema: the provisioner for schemas it created and never handed over. */
  owner: string;
  managedAccess: boolean;
}

/** A way a user can create schemas in a database. */
export interface SchemaCreation {
  holder: string;
  database: string;
  /** ANY_SCHEMA_NAME for CREATE SCHEMA on the database (which also renames an owned schema to any name), else the only names it makes. */
  names: string;
  /** The role that owns what is created; absent when it is the holder's session role. */
  owner?: string;
  /** The privilege, or the procedure that creates them. */
  via: string;
}

export interface UserFacts {
  user: string;
  type: "PERSON" | "SERVICE" | "LEGACY_SERVICE";
  defaultRole?: string;
  hasRsaPublicKey: boolean;
  hasPassword: boolean;
  /** The authentication methods of the policy attached to the user; undefined when none is attached. */
  authenticationMethods?: string[];
}

export interface SnowflakeReading {
  /** The strongest access each user has on each schema, through every role it holds. */
  access: HolderAccess[];
  /** Users who can select from some objects of a schema but not from every table and view, now and later. */
  partialReads: HolderAccess[];
  /** What holders of the provisioner's role can do: it owns what it created and inherits every role rolled up to it. */
  adminAccess: HolderAccess[];
  /** How each user can create schemas: CREATE SCHEMA on a database, or a recognised schema-creating procedure it can call. */
  schemaCreation: SchemaCreation[];
  schemas: SchemaFacts[];
  users: UserFacts[];
}

export interface InterpretOptions {
  /** The role `pulumi up` runs as: it owns every schema it creates until ownership is granted away. */
  provisionerRole: string;
}

const schemaKey = (database: string, schema: string): string => `${database}\u0000${schema}`;
const unkey = (key: string): [string, string] => key.split("\u0000") as [string, string];

/** Tokens for whole-schema SELECT coverage: read needs every one of them. */
const FULL_COVERAGE = READ_SCOPES.flatMap((scope) => READ_OBJECT_KINDS.map((kind) => `${scope}:${kind}`));

interface Held {
  databaseUsage: Set<string>;
  /** Databases where the role may create (and rename to) schemas of any name. */
  createSchemaIn: Set<string>;
  /** Declared procedures (procedureKey) the role may call. */
  procedureUsage: Set<string>;
  schemaPrivileges: Map<string, Set<string>>;
  objectWrite: Set<string>;
  /** Per schema, which ALL/FUTURE object kinds (or single objects) the role may SELECT from. */
  selectCoverage: Map<string, Set<string>>;
}

export function interpretSnowflakeAccess(resources: readonly Pick<DeclaredResource, "type" | "inputs">[], options: InterpretOptions): SnowflakeReading {
  const of = (type: string) => resources.filter((r) => r.type === type).map((r) => r.inputs);
  const held = new Map<string, Held>();
  const rights = (role: string): Held => {
    let existing = held.get(role);
    if (!existing)
      held.set(role, (existing = { databaseUsage: new Set(), createSchemaIn: new Set(), procedureUsage: new Set(), schemaPrivileges: new Map(), objectWrite: new Set(), selectCoverage: new Map() }));
    return existing;
  };
  const add = <K>(map: Map<K, Set<string>>, key: K, ...values: string[]) => {
    const set = map.get(key) ?? new Set<string>();
    for (const value of values) set.add(value);
    map.set(key, set);
  };

  // Schemas: those the stack creates (owned by the provisioner until handed over) and any a grant names.
  const owners = new Map<string, string>();
  const managed = new Map<string, boolean>();
  for (const schema of of(SNOWFLAKE_TYPES.schema)) {
    const database = text(schema.database);
    const name = text(schema.name);
    if (!database || !name) continue;
    const key = schemaKey(objectName(database), name);
    owners.set(key, options.provisionerRole);
    managed.set(key, schema.withManagedAccess === "true" || schema.withManagedAccess === true);
  }
  const known = new Set(owners.keys());
  const schemaOf = (qualified: string | undefined): string | undefined => {
    const parts = qualified === undefined ? [] : identifierParts(qualified);
    if (parts.length < 2) return undefined;
    const key = schemaKey(parts[0]!, parts[1]!);
    known.add(key);
    return key;
  };
  const schemasIn = (database: string | undefined): string[] =>
    database === undefined ? [] : [...known].filter((key) => unkey(key)[0] === objectName(database));

  // Declared procedures, by database, schema, name and argument types, as grants name them.
  const procedures = new Map<string, Procedure>();
  for (const r of resources.filter((x) => PROCEDURE_TYPES.has(x.type))) {
    const p = r.inputs;
    const [database, schema, name] = [text(p.database), text(p.schema), text(p.name)].map((x) => (x === undefined ? undefined : objectName(x)));
    if (!database || !schema || !name) continue;
    const argumentTypes = (Array.isArray(p.arguments) ? p.arguments : []).map((a) => argumentType(text(record(a)?.argDataType) ?? ""));
    const key = procedureKey(database, schema, name, argumentTypes);
    const definition = r.type === SNOWFLAKE_TYPES.procedureSql ? text(p.procedureDefinition) : undefined;
    procedures.set(key, {
      key, database, schema,
      identifier: `${quoted(database, schema, name)}(${argumentTypes.join(", ")})`,
      // Snowflake's default is EXECUTE AS OWNER.
      asOwner: (text(p.executeAs)?.toUpperCase() ?? "OWNER") !== "CALLER",
      owner: options.provisionerRole,
      ciCreator: definition === undefined ? undefined : ciSchemaCreatorOf({ database, definition, argumentTypes }),
    });
  }
  const proceduresIn = (scope: { inSchema?: string | undefined; inDatabase?: string | undefined }): Procedure[] =>
    [...procedures.values()].filter((p) =>
      (scope.inSchema !== undefined && schemaKey(p.database, p.schema) === scope.inSchema) || (scope.inDatabase !== undefined && p.database === objectName(scope.inDatabase)));

  const grants = of(SNOWFLAKE_TYPES.grantPrivileges).map((g) => ({
    role: objectName(text(g.accountRoleName) ?? ""),
    privileges: g.allPrivileges === true ? ["ALL"] : strings(g.privileges).map((p) => p.toUpperCase()),
    onAccount: g.onAccount === true,
    accountObject: record(g.onAccountObject),
    onSchema: record(g.onSchema),
    onSchemaObject: record(g.onSchemaObject),
  }));
  // Pass 1 learns every schema named anywhere, and which object kinds have schema-level future grants.
  const schemaFuture = new Set<string>();
  for (const g of grants) {
    schemaOf(text(g.onSchema?.schemaName));
    schemaOf(text(record(g.onSchemaObject?.all)?.inSchema));
    const future = record(g.onSchemaObject?.future);
    const futureIn = schemaOf(text(future?.inSchema));
    if (futureIn) schemaFuture.add(`${futureIn}\u0000${text(future?.objectTypePlural)?.toUpperCase()}`);
    const objectSchema = text(g.onSchemaObject?.objectName);
    if (objectSchema) schemaOf(objectSchema);
  }
  const ownershipGrants = of(SNOWFLAKE_TYPES.grantOwnership);
  for (const o of ownershipGrants) {
    const on = record(o.on);
    if (text(on?.objectType)?.toUpperCase() === "SCHEMA") schemaOf(text(on?.objectName));
  }

  const selectOn = (role: string, key: string, token: string, privileges: string[]) => {
    if (privileges.some((p) => OBJECT_READ_PRIVILEGES.has(p))) add(rights(role).selectCoverage, key, token);
    if (privileges.some((p) => OBJECT_WRITE_PRIVILEGES.has(p))) rights(role).objectWrite.add(key);
  };
  for (const g of grants) {
    if (!g.role) continue;
    if (g.onAccount && g.privileges.some((p) => p === "ALL" || p === "MANAGE GRANTS"))
      // MANAGE GRANTS lets a role grant itself anything: write everywhere.
      for (const key of known) rights(g.role).objectWrite.add(key);
    const objectType = text(g.accountObject?.objectType)?.toUpperCase();
    const accountObject = text(g.accountObject?.objectName);
    if (objectType === "DATABASE" && accountObject && g.privileges.some((p) => p === "USAGE" || p === "ALL"))
      rights(g.role).databaseUsage.add(objectName(accountObject));
    if (objectType === "DATABASE" && accountObject && g.privileges.some((p) => p === "CREATE SCHEMA" || p === "ALL" || p === "ALL PRIVILEGES"))
      rights(g.role).createSchemaIn.add(objectName(accountObject));
    // MANAGE GRANTS lets a role grant itself CREATE SCHEMA anywhere.
    if (g.onAccount && g.privileges.some((p) => p === "ALL" || p === "ALL PRIVILEGES" || p === "MANAGE GRANTS"))
      for (const key of known) rights(g.role).createSchemaIn.add(unkey(key)[0]);

    const onSchema = g.onSchema;
    if (onSchema) {
      const keys = [
        ...[schemaOf(text(onSchema.schemaName))].filter((k): k is string => k !== undefined),
        ...schemasIn(text(onSchema.allSchemasInDatabase)),
        ...schemasIn(text(onSchema.futureSchemasInDatabase)),
      ];
      for (const key of keys) add(rights(g.role).schemaPrivileges, key, ...g.privileges);
    }

    const onObject = g.onSchemaObject;
    if (onObject) {
      const single = text(onObject.objectName);
      const calls = g.privileges.some((p) => p === "USAGE" || p === "ALL" || p === "ALL PRIVILEGES");
      if (calls && single && text(onObject.objectType)?.toUpperCase() === "PROCEDURE") {
        const key = procedureKeyOf(single);
        if (key && procedures.has(key)) rights(g.role).procedureUsage.add(key);
      }
      for (const scope of READ_SCOPES) {
        const bulk = record(onObject[scope]);
        if (!calls || !bulk || text(bulk.objectTypePlural)?.toUpperCase() !== "PROCEDURES") continue;
        for (const p of proceduresIn({ inSchema: schemaOf(text(bulk.inSchema)), inDatabase: text(bulk.inDatabase) })) rights(g.role).procedureUsage.add(p.key);
      }
      if (single) {
        const key = schemaOf(single);
        if (key) selectOn(g.role, key, `object:${identifierParts(single).slice(2).join(".")}`, g.privileges);
      }
      for (const scope of READ_SCOPES) {
        const bulk = record(onObject[scope]);
        if (!bulk) continue;
        const kind = text(bulk.objectTypePlural)?.toUpperCase() ?? "";
        const inSchema = schemaOf(text(bulk.inSchema));
        // A schema's own future grants for a kind make Snowflake ignore the database's future grants for it there.
        const inDatabase = schemasIn(text(bulk.inDatabase)).filter((key) => scope === "all" || !schemaFuture.has(`${key}\u0000${kind}`));
        for (const key of [...(inSchema ? [inSchema] : []), ...inDatabase]) selectOn(g.role, key, `${scope}:${kind}`, g.privileges);
      }
    }
  }

  for (const o of ownershipGrants) {
    const role = objectName(text(o.accountRoleName) ?? "");
    const on = record(o.on);
    if (!role || !on) continue;
    const type = text(on.objectType)?.toUpperCase();
    const name = text(on.objectName);
    if (type === "SCHEMA") {
      const key = schemaOf(name);
      if (key) owners.set(key, role);
    } else if (type === "DATABASE") {
      // The database's owner can drop every schema in it, and create any.
      for (const key of schemasIn(name)) rights(role).objectWrite.add(key);
      if (name) rights(role).createSchemaIn.add(objectName(name));
    } else if (name) {
      const procedure = type === "PROCEDURE" ? procedures.get(procedureKeyOf(name) ?? "") : undefined;
      if (procedure) procedure.owner = role;
      const key = schemaOf(name);
      if (key) rights(role).objectWrite.add(key);
    }
    for (const scope of READ_SCOPES) {
      const bulk = record(on[scope]);
      if (!bulk) continue;
      const inSchema = schemaOf(text(bulk.inSchema));
      for (const key of [...(inSchema ? [inSchema] : []), ...schemasIn(text(bulk.inDatabase))]) rights(role).objectWrite.add(key);
    }
  }

  // Role hierarchy: a grantee role (or user) inherits everything the granted role holds.
  const rolesOf = new Map<string, string[]>();
  const users = new Set<string>();
  for (const g of of(SNOWFLAKE_TYPES.grantAccountRole)) {
    const role = objectName(text(g.roleName) ?? "");
    const user = text(g.userName);
    const parent = text(g.parentRoleName);
    if (!role) continue;
    if (user) users.add(objectName(user));
    const grantee = user ? `user:${objectName(user)}` : parent ? `role:${objectName(parent)}` : undefined;
    if (grantee) rolesOf.set(grantee, [...(rolesOf.get(grantee) ?? []), role]);
  }
  // A role's owner can grant it to itself, so it holds the role in effect; the provisioner owns the roles it creates.
  const roleOwners = new Map<string, string>();
  for (const r of of(SNOWFLAKE_TYPES.accountRole)) if (text(r.name)) roleOwners.set(text(r.name)!, options.provisionerRole);
  for (const o of ownershipGrants) {
    const on = record(o.on);
    const owner = objectName(text(o.accountRoleName) ?? "");
    if (owner && text(on?.objectType)?.toUpperCase() === "ROLE" && text(on?.objectName)) roleOwners.set(objectName(text(on!.objectName)!), owner);
  }
  for (const [role, owner] of roleOwners) rolesOf.set(`role:${owner}`, [...(rolesOf.get(`role:${owner}`) ?? []), role]);
  // Calling an owner's-rights procedure acts as its owner; only CREATE_CI_SCHEMA's known body is read for what it does instead.
  for (const [role, rightsOf] of held)
    for (const key of rightsOf.procedureUsage) {
      const procedure = procedures.get(key)!;
      if (procedure.asOwner && procedure.ciCreator === undefined && procedure.owner !== role)
        rolesOf.set(`role:${role}`, [...(rolesOf.get(`role:${role}`) ?? []), procedure.owner]);
    }
  const closure = (start: string[]): Set<string> => {
    const found = new Set<string>([...start, SNOWFLAKE_PUBLIC]);
    const queue = [...found];
    while (queue.length > 0)
      for (const role of rolesOf.get(`role:${queue.shift()!}`) ?? []) if (!found.has(role)) found.add(role), queue.push(role);
    return found;
  };

  const userRecords = [
    ...of(SNOWFLAKE_TYPES.user).map((u) => ({ u, type: "PERSON" as const })),
    ...of(SNOWFLAKE_TYPES.serviceUser).map((u) => ({ u, type: "SERVICE" as const })),
    ...of(SNOWFLAKE_TYPES.legacyServiceUser).map((u) => ({ u, type: "LEGACY_SERVICE" as const })),
  ];
  for (const { u } of userRecords) if (text(u.name)) users.add(text(u.name)!);

  const evaluate = (holder: string, roles: Set<string>) => {
    const levels: HolderAccess[] = [];
    const partial: HolderAccess[] = [];
    const union = [...roles].map((r) => held.get(r)).filter((h): h is Held => h !== undefined);
    for (const key of [...known].sort()) {
      const [database, schema] = unkey(key);
      const entry = { holder, database, schema };
      const owns = roles.has(owners.get(key) ?? "\u0000");
      const schemaPrivileges = union.flatMap((h) => [...(h.schemaPrivileges.get(key) ?? [])]);
      if (owns || schemaPrivileges.some(isSchemaWrite) || union.some((h) => h.objectWrite.has(key))) {
        levels.push({ ...entry, access: "write" });
        continue;
      }
      const usable = union.some((h) => h.databaseUsage.has(database)) && schemaPrivileges.some((p) => p === "USAGE" || p === "ALL");
      const coverage = new Set(union.flatMap((h) => [...(h.selectCoverage.get(key) ?? [])]));
      if (!usable || coverage.size === 0) continue;
      (FULL_COVERAGE.every((token) => coverage.has(token)) ? levels : partial).push({ ...entry, access: "read" });
    }
    return { levels, partial };
  };

  const creations = (holder: string, roles: Set<string>): SchemaCreation[] => {
    const union = [...roles].map((r) => held.get(r)).filter((h): h is Held => h !== undefined);
    const found = new Map<string, SchemaCreation>();
    const add = (c: SchemaCreation) => found.set(JSON.stringify(c), c);
    for (const database of new Set(union.flatMap((h) => [...h.createSchemaIn])))
      add({ holder, database, names: ANY_SCHEMA_NAME, via: `CREATE SCHEMA on database ${quoted(database)}` });
    for (const p of procedures.values()) {
      if (p.ciCreator === undefined || !p.asOwner || !union.some((h) => h.procedureUsage.has(p.key))) continue;
      // A caller needs USAGE on the procedure's database and schema too.
      const schema = schemaKey(p.database, p.schema);
      const usesSchema = roles.has(owners.get(schema) ?? "\u0000")
        || union.some((h) => [...(h.schemaPrivileges.get(schema) ?? [])].some((x) => x === "USAGE" || x === "ALL" || x === "ALL PRIVILEGES" || x === "OWNERSHIP"));
      if (union.some((h) => h.databaseUsage.has(p.database)) && usesSchema)
        add({ holder, database: p.database, names: CI_SCHEMA_NAMES, owner: p.ciCreator, via: p.identifier });
    }
    return [...found.values()];
  };

  const access: HolderAccess[] = [];
  const partialReads: HolderAccess[] = [];
  const schemaCreation: SchemaCreation[] = [];
  for (const user of [...users].sort()) {
    const roles = closure(rolesOf.get(`user:${user}`) ?? []);
    const { levels, partial } = evaluate(user, roles);
    access.push(...levels);
    partialReads.push(...partial);
    schemaCreation.push(...creations(user, roles));
  }
  const adminAccess = evaluate(options.provisionerRole, closure([options.provisionerRole])).levels;

  const policies = new Map<string, string[]>();
  for (const p of of(SNOWFLAKE_TYPES.authenticationPolicy)) {
    const parts = [text(p.database), text(p.schema), text(p.name)];
    if (parts.every((x) => x !== undefined)) policies.set(parts.map((x) => objectName(x!)).join("\u0000"), strings(p.authenticationMethods));
  }
  const policyOf = new Map<string, string[]>();
  for (const a of of(SNOWFLAKE_TYPES.userAuthenticationPolicy)) {
    const user = text(a.userName);
    const policy = text(a.authenticationPolicyName);
    const methods = policy === undefined ? undefined : policies.get(identifierParts(policy).join("\u0000"));
    if (user && methods) policyOf.set(objectName(user), methods);
  }

  return {
    access,
    partialReads,
    adminAccess,
    schemaCreation,
    schemas: [...owners].map(([key, owner]) => {
      const [database, schema] = unkey(key);
      return { database, schema, owner, managedAccess: managed.get(key) ?? false };
    }).sort((a, b) => schemaKey(a.database, a.schema).localeCompare(schemaKey(b.database, b.schema))),
    users: userRecords
      .filter(({ u }) => text(u.name) !== undefined)
      .map(({ u, type }): UserFacts => {
        const name = text(u.name)!;
        const methods = policyOf.get(name);
        return {
          user: name,
          type,
          ...(text(u.defaultRole) ? { defaultRole: objectName(text(u.defaultRole)!) } : {}),
          hasRsaPublicKey: text(u.rsaPublicKey) !== undefined || text(u.rsaPublicKey2) !== undefined,
          hasPassword: text(u.password) !== undefined,
          ...(methods ? { authenticationMethods: methods } : {}),
        };
      })
      .sort((a, b) => a.user.localeCompare(b.user)),
  };
}

interface Procedure {
  key: string;
  database: string;
  schema: string;
  identifier: string;
  asOwner: boolean;
  owner: string;
  /** The role CREATE_CI_SCHEMA hands schemas to, when this is that procedure's exact body. */
  ciCreator: string | undefined;
}

/** An argument type as Snowflake resolves overloads: no length or precision, synonyms folded. */
function argumentType(type: string): string {
  const base = type.replace(/\(.*\)/s, "").trim().toUpperCase().replace(/\s+/g, " ");
  if (["STRING", "TEXT", "CHAR", "CHARACTER", "CHAR VARYING", "NCHAR", "NVARCHAR", "NVARCHAR2", "NCHAR VARYING"].includes(base)) return "VARCHAR";
  if (["NUMERIC", "DECIMAL", "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT"].includes(base)) return "NUMBER";
  if (["DOUBLE", "DOUBLE PRECISION", "REAL", "FLOAT4", "FLOAT8"].includes(base)) return "FLOAT";
  return base;
}

const procedureKey = (database: string, schema: string, name: string, argumentTypes: readonly string[]): string =>
  [database, schema, name, argumentTypes.join(",")].join("\u0000");

/** The key of `"DB"."SCHEMA"."NAME"(TYPE, ...)` as a grant writes it; undefined when it is not that shape. */
function procedureKeyOf(identifier: string): string | undefined {
  let open = -1;
  for (let i = 0, inQuotes = false; i < identifier.length && open < 0; i++) {
    if (identifier[i] === '"') inQuotes = !inQuotes;
    else if (identifier[i] === "(" && !inQuotes) open = i;
  }
  if (open < 0 || !identifier.trimEnd().endsWith(")")) return undefined;
  const parts = identifierParts(identifier.slice(0, open));
  if (parts.length !== 3) return undefined;
  const inside = identifier.slice(open + 1, identifier.trimEnd().length - 1);
  const types: string[] = [];
  let depth = 0, current = "";
  for (const c of inside) {
    if (c === "," && depth === 0) (types.push(current), (current = ""));
    else (depth += c === "(" ? 1 : c === ")" ? -1 : 0), (current += c);
  }
  if (current.trim() !== "") types.push(current);
  return procedureKey(parts[0]!, parts[1]!, parts[2]!, types.map(argumentType));
}
