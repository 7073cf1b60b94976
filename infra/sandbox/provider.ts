// terraform-provider-postgresql v1.27.0 as a non-superuser provisioner meets it: each operation in its own transaction on
// a pooled connection (max_connections), with the provider's advisory locks (pgLockRole), temporary self-grants
// (withRolesGranted) and the read after every create and update, whose result is what the stack's state stores and what
// the next `pulumi up` diffs against. Transcribed from postgresql/helpers.go and resource_postgresql_{role,schema,grant,
// default_privileges,function}.go at ff936b9 (v1.27.0); the SQL text per resource comes from ./apply, the schemas from
// ./provider-schema.

import pg from "pg";
import {
  defaultPrivilegesApplyStatements, defaultPrivilegesRevokeStatement, functionCreateStatements, functionDeleteStatements,
  functionSignature, grantApplyStatements, grantRevokeStatement, grantRoleCreateStatements, grantRoleDeleteStatements, quoteIdentifier, RESOURCE_TYPES,
  list, roleCreateStatements, roleDeleteStatements, roleUpdateStatements, schemaCreateStatements, schemaDeleteStatements, schemaUpdateStatements, str, type AppliedStatement, type Operation,
} from "./apply";
import type { DeclaredResource } from "../platforms/resources";
import { sameSet, withDefaults, type Attributes } from "./provider-schema";

/** The provider's `max_connections` default: its database/sql pool per database never opens more. */
export const PROVIDER_MAX_CONNECTIONS = 20;

export interface ProviderOptions {
  /** A connection string for `database` as the provisioner. */
  url(database: string): string;
  /** `postgresql:database`: roles are created, altered and dropped over this database's connection. */
  providerDatabase: string;
  /** `postgresql:username`: REASSIGN OWNED hands a dropped role's objects to it. */
  username: string;
  maxConnections?: number;
  log?: (statement: AppliedStatement) => void;
}

/** One transaction of one operation; every statement it runs is logged, locks and self-grants included. */
interface Tx {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** The provider's objectTypes map: pg_class.relkind / pg_default_acl.defaclobjtype per object_type. */
const OBJECT_TYPES: Record<string, string> = { table: "r", sequence: "S", function: "f", type: "T", schema: "n" };

export class PostgresProvider {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(private readonly options: ProviderOptions) {}

  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((p) => p.end()));
    this.pools.clear();
  }

  /** The database an operation connects to: roles go over the provider's own connection (startTransaction(client, "")). */
  databaseOf(resource: Pick<DeclaredResource, "type">, attributes: Attributes): string {
    return resource.type === RESOURCE_TYPES.role || resource.type === RESOURCE_TYPES.grantRole ? this.options.providerDatabase : str(attributes, "database", this.options.providerDatabase);
  }

  async create(resource: DeclaredResource): Promise<Attributes> {
    const inputs = withDefaults(resource.type, resource.inputs);
    const database = this.databaseOf(resource, inputs);
    await this.transaction(resource, "create", database, async (tx) => {
      switch (resource.type) {
        case RESOURCE_TYPES.role:
          for (const sql of roleCreateStatements(inputs)) await tx.query(sql);
          return;
        case RESOURCE_TYPES.schema: {
          // resourcePostgreSQLSchemaCreate: the database owner and the schema's owner are granted for the CREATE.
          const dbOwner = await databaseOwner(tx, database);
          const owner = str(inputs, "owner");
          const roles = owner !== "" && owner !== dbOwner ? [dbOwner, owner] : [dbOwner];
          await withRolesGranted(tx, roles, async () => {
            const found = await tx.query("SELECT TRUE FROM pg_catalog.pg_namespace WHERE nspname = $1", [str(inputs, "name")]);
            for (const sql of schemaCreateStatements(inputs, (found.rowCount ?? 0) > 0)) await tx.query(sql);
          });
          return;
        }
        case RESOURCE_TYPES.grant:
          return grantCreateOrUpdate(tx, inputs);
        case RESOURCE_TYPES.defaultPrivileges:
          return defaultPrivilegesCreate(tx, inputs);
        case RESOURCE_TYPES.function:
          for (const sql of functionCreateStatements(inputs)) await tx.query(sql);
          return;
        case RESOURCE_TYPES.grantRole:
          // resourcePostgreSQLGrantRoleCreate: revokeRole, then grantRole; no lock, no self-grant.
          for (const sql of grantRoleCreateStatements(inputs)) await tx.query(sql);
          return;
        default:
          throw new Error(`the sandbox's provider does not know ${resource.type}`);
      }
    });
    return this.readBack(resource, inputs, "create");
  }

  async update(resource: DeclaredResource, state: Attributes): Promise<Attributes> {
    const inputs = withDefaults(resource.type, resource.inputs);
    const database = this.databaseOf(resource, inputs);
    await this.transaction(resource, "update", database, async (tx) => {
      switch (resource.type) {
        case RESOURCE_TYPES.role: {
          // resourcePostgreSQLRoleUpdate: the role and its members are locked; revokeRoles reads the memberships it drops.
          await lockRole(tx, str(state, "name"));
          const current = await tx.query<{ role: string }>(
            "SELECT pg_get_userbyid(roleid) AS role FROM pg_catalog.pg_auth_members members JOIN pg_catalog.pg_roles ON members.member = pg_roles.oid WHERE pg_roles.rolname = $1",
            [str(state, "name")],
          );
          for (const sql of roleUpdateStatements(state, inputs, current.rows.map((r) => r.role))) await tx.query(sql);
          return;
        }
        case RESOURCE_TYPES.schema:
          // resourcePostgreSQLSchemaUpdate: setSchemaName and setSchemaOwner run without withRolesGranted.
          for (const sql of schemaUpdateStatements(state, inputs)) await tx.query(sql);
          return;
        case RESOURCE_TYPES.grant:
          return grantCreateOrUpdate(tx, inputs);
        case RESOURCE_TYPES.defaultPrivileges:
          return defaultPrivilegesCreate(tx, inputs);
        case RESOURCE_TYPES.function:
          for (const sql of functionCreateStatements(inputs, true)) await tx.query(sql);
          return;
        default:
          throw new Error(`the sandbox's provider does not know ${resource.type}`);
      }
    });
    return this.readBack(resource, inputs, "update");
  }

  /** The read after a create or update; finding nothing leaves the resource without an ID, which Terraform reports. */
  private async readBack(resource: DeclaredResource, attributes: Attributes, operation: "create" | "update"): Promise<Attributes> {
    const read = await this.read(resource, attributes);
    if (read === undefined) throw new Error(`${operation} ${resource.name}: the provider's read after ${operation} found nothing (the resource has no ID)`);
    return read;
  }

  async delete(resource: DeclaredResource, state: Attributes): Promise<void> {
    const database = this.databaseOf(resource, state);
    await this.transaction(resource, "delete", database, async (tx) => {
      switch (resource.type) {
        case RESOURCE_TYPES.role: {
          // resourcePostgreSQLRoleDelete: lock, then REASSIGN/DROP OWNED with the role granted, then DROP ROLE.
          const { owned, role } = roleDeleteStatements(state, this.options.username);
          await lockRole(tx, str(state, "name"));
          if (owned.length > 0)
            await withRolesGranted(tx, [str(state, "name")], async () => {
              for (const sql of owned) await tx.query(sql);
            });
          for (const sql of role) await tx.query(sql);
          return;
        }
        case RESOURCE_TYPES.schema: {
          const name = str(state, "name");
          if (!(await exists(tx, "SELECT 1 FROM pg_namespace WHERE nspname=$1", name))) return;
          await withRolesGranted(tx, [str(state, "owner")], async () => {
            for (const sql of schemaDeleteStatements(state)) await tx.query(sql);
          });
          return;
        }
        case RESOURCE_TYPES.grant: {
          // resourcePostgreSQLGrantDelete
          await lockRole(tx, str(state, "role"));
          if (str(state, "objectType") === "database") await lockDatabase(tx, str(state, "database"));
          await withRolesGranted(tx, await rolesToGrant(tx, state), async () => {
            await tx.query(grantRevokeStatement(state));
          });
          return;
        }
        case RESOURCE_TYPES.defaultPrivileges:
          await lockRole(tx, str(state, "owner"));
          await withRolesGranted(tx, [str(state, "owner")], async () => {
            await tx.query(defaultPrivilegesRevokeStatement(state));
          });
          return;
        case RESOURCE_TYPES.function:
          for (const sql of functionDeleteStatements(state)) await tx.query(sql);
          return;
        case RESOURCE_TYPES.grantRole:
          for (const sql of grantRoleDeleteStatements(state)) await tx.query(sql);
          return;
        default:
          throw new Error(`the sandbox's provider does not know ${resource.type}`);
      }
    });
  }

  /** The provider's Read: the attributes as it stores them, or undefined when it finds the resource gone (SetId("")). */
  async read(resource: DeclaredResource, state: Attributes): Promise<Attributes | undefined> {
    const database = this.databaseOf(resource, state);
    let result: Attributes | undefined;
    await this.transaction(resource, "read", database, async (tx) => {
      switch (resource.type) {
        case RESOURCE_TYPES.role:
          result = await readRole(tx, state);
          return;
        case RESOURCE_TYPES.schema: {
          const found = await tx.query<{ owner: string }>(
            "SELECT pg_catalog.pg_get_userbyid(n.nspowner) AS owner FROM pg_catalog.pg_namespace n WHERE n.nspname=$1", [str(state, "name")]);
          result = found.rows[0] ? { ...state, owner: found.rows[0].owner, database } : undefined;
          return;
        }
        case RESOURCE_TYPES.grant:
          result = await readGrant(tx, state);
          return;
        case RESOURCE_TYPES.defaultPrivileges:
          result = await readDefaultPrivileges(tx, state);
          return;
        case RESOURCE_TYPES.function:
          result = await readFunction(tx, state, database);
          return;
        case RESOURCE_TYPES.grantRole: {
          // readGrantRole: QueryRow takes the first of however many pg_auth_members rows match (16+: the automatic one too).
          const found = await tx.query<{ role: string; grant_role: string; admin_option: boolean }>(
            "SELECT pg_get_userbyid(member) as role, pg_get_userbyid(roleid) as grant_role, admin_option FROM pg_auth_members WHERE pg_get_userbyid(member) = $1 AND pg_get_userbyid(roleid) = $2",
            [str(state, "role"), str(state, "grantRole")]);
          const row = found.rows[0];
          result = row ? { ...state, role: row.role, grantRole: row.grant_role, withAdminOption: row.admin_option } : undefined;
          return;
        }
        default:
          throw new Error(`the sandbox's provider does not know ${resource.type}`);
      }
    });
    return result;
  }

  private pool(database: string): pg.Pool {
    let pool = this.pools.get(database);
    if (!pool) {
      pool = new pg.Pool({ connectionString: this.options.url(database), max: this.options.maxConnections ?? PROVIDER_MAX_CONNECTIONS });
      pool.on("error", () => undefined);
      this.pools.set(database, pool);
    }
    return pool;
  }

  /** startTransaction … Commit, with deferredRollback on any error. */
  private async transaction(resource: DeclaredResource, operation: Operation | "read", database: string, body: (tx: Tx) => Promise<void>): Promise<void> {
    const client = await this.pool(database).connect();
    const tx: Tx = {
      query: async (sql, params) => {
        const result = await client.query(sql, params);
        if (operation !== "read") this.options.log?.({ resource: resource.name, type: resource.type, operation, database, sql });
        return result;
      },
    };
    try {
      await client.query("BEGIN");
      await body(tx);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      // database/sql with SetMaxIdleConns(0) (config.go, Connect): every transaction's connection is closed after it.
      client.release(true);
    }
  }
}

// ---------------------------------------------------------------- helpers.go

/** pgLockRole: the role, then each of its members, in whatever order the server returns pg_auth_members rows. */
async function lockRole(tx: Tx, role: string): Promise<void> {
  await tx.query("SET statement_timeout = 0");
  await tx.query("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = $1", [role]);
  await tx.query("SELECT pg_advisory_xact_lock(member::bigint) FROM pg_auth_members JOIN pg_roles ON roleid = pg_roles.oid WHERE rolname = $1", [role]);
}

/** pgLockDatabase */
async function lockDatabase(tx: Tx, database: string): Promise<void> {
  await tx.query("SET statement_timeout = 0");
  await tx.query("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_database WHERE datname = $1", [database]);
}

async function exists(tx: Tx, sql: string, ...params: unknown[]): Promise<boolean> {
  return ((await tx.query(sql, params)).rowCount ?? 0) > 0;
}

async function isSuperuser(tx: Tx, role: string): Promise<boolean> {
  const found = await tx.query<{ rolsuper: boolean }>("SELECT rolsuper FROM pg_roles WHERE rolname = $1", [role]);
  if (!found.rows[0]) throw new Error(`could not check if role ${role} is superuser: sql: no rows in result set`);
  return found.rows[0].rolsuper;
}

/** isMemberOfRole: on 16+ only a membership with SET counts (the automatic ADMIN one from CREATE ROLE has none). */
async function isMemberOfRole(tx: Tx, role: string, member: string): Promise<boolean> {
  const setOption = await exists(tx, "SELECT 1 FROM information_schema.columns WHERE table_name='pg_auth_members' AND column_name = 'set_option'");
  const sql = "SELECT 1 FROM pg_auth_members WHERE pg_get_userbyid(roleid) = $1 AND pg_get_userbyid(member) = $2" + (setOption ? " AND set_option" : "");
  return exists(tx, sql, role, member);
}

async function grantRoleMembership(tx: Tx, role: string, member: string): Promise<boolean> {
  if (member === role || (await isMemberOfRole(tx, role, member))) return false;
  await tx.query(`GRANT ${quoteIdentifier(role)} TO ${quoteIdentifier(member)}`);
  return true;
}

async function revokeRoleMembership(tx: Tx, role: string, member: string): Promise<boolean> {
  if (member === role || !(await isMemberOfRole(tx, role, member))) return false;
  await tx.query(`REVOKE ${quoteIdentifier(role)} FROM ${quoteIdentifier(member)}`);
  return true;
}

/** withRolesGranted: grant each role to the current user (undoing a reverse membership first), run, then undo both. */
async function withRolesGranted(tx: Tx, roles: readonly string[], fn: () => Promise<void>): Promise<void> {
  if (roles.length === 0) return fn();
  const currentUser = (await tx.query<{ current_user: string }>("SELECT CURRENT_USER")).rows[0]!.current_user;
  if (await isSuperuser(tx, currentUser)) return fn();
  const granted: string[] = [];
  const revoked: string[] = [];
  for (const role of roles) {
    if (await isSuperuser(tx, role)) continue;
    if (await revokeRoleMembership(tx, currentUser, role)) revoked.push(role);
    if (await grantRoleMembership(tx, role, currentUser)) granted.push(role);
  }
  await fn();
  for (const role of granted) await revokeRoleMembership(tx, role, currentUser);
  for (const role of revoked) if (await exists(tx, "SELECT 1 FROM pg_roles WHERE rolname=$1", role)) await grantRoleMembership(tx, currentUser, role);
}

/** getDatabaseOwner */
async function databaseOwner(tx: Tx, database: string): Promise<string> {
  const found = await tx.query<{ rolname: string }>("SELECT rolname FROM pg_database JOIN pg_roles ON datdba = pg_roles.oid WHERE datname = $1", [database]);
  if (!found.rows[0]) throw new Error(`could not find database '${database}' while looking for owner`);
  return found.rows[0].rolname;
}

/** getRolesToGrant: the owners of the tables pg_tables lists (views are not there), the schema's owner, resolveOwners. */
async function rolesToGrant(tx: Tx, grant: Attributes): Promise<string[]> {
  const objectType = str(grant, "objectType");
  if (objectType === "database") return [];
  const schema = str(grant, "schema");
  const owners = objectType === "schema" ? [] : (await tx.query<{ tableowner: string }>("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = $1", [schema])).rows.map((r) => r.tableowner);
  const found = await tx.query<{ rolname: string }>("SELECT rolname FROM pg_namespace JOIN pg_roles ON nspowner = pg_roles.oid WHERE nspname = $1", [schema]);
  if (!found.rows[0]) throw new Error(`could not find schema '${schema}' while looking for owner`);
  if (!owners.includes(found.rows[0].rolname)) owners.push(found.rows[0].rolname);
  const resolved: string[] = [];
  for (const owner of owners) resolved.push(owner === "pg_database_owner" ? await databaseOwner(tx, (await tx.query<{ d: string }>("SELECT current_database() AS d")).rows[0]!.d) : owner);
  return resolved;
}

// ---------------------------------------------------------------- the operations

/** resourcePostgreSQLGrantCreateOrUpdate */
async function grantCreateOrUpdate(tx: Tx, grant: Attributes): Promise<void> {
  const statements = grantApplyStatements(grant);
  await lockRole(tx, str(grant, "role"));
  if (str(grant, "objectType") === "database") await lockDatabase(tx, str(grant, "database"));
  await withRolesGranted(tx, await rolesToGrant(tx, grant), async () => {
    for (const sql of statements) await tx.query(sql);
  });
}

/** resourcePostgreSQLDefaultPrivilegesCreate (and Update) */
async function defaultPrivilegesCreate(tx: Tx, d: Attributes): Promise<void> {
  const statements = defaultPrivilegesApplyStatements(d);
  await lockRole(tx, str(d, "owner"));
  await withRolesGranted(tx, [str(d, "owner")], async () => {
    for (const sql of statements) await tx.query(sql);
  });
}

/** getRoleOID: PUBLIC is 0 */
async function roleOid(tx: Tx, role: string): Promise<number> {
  if (role === "public") return 0;
  const found = await tx.query<{ oid: number }>("SELECT oid FROM pg_roles WHERE rolname = $1", [role]);
  if (!found.rows[0]) throw new Error(`could not find oid for role ${role}: sql: no rows in result set`);
  return Number(found.rows[0].oid);
}

/** resourcePostgreSQLRoleReadImpl: flags, memberships, and rolconfig's search_path, timeouts and role. */
async function readRole(tx: Tx, state: Attributes): Promise<Attributes | undefined> {
  const found = await tx.query<{
    roles: string[]; rolname: string; rolsuper: boolean; rolinherit: boolean; rolcreaterole: boolean; rolcreatedb: boolean;
    rolcanlogin: boolean; rolconnlimit: number; validuntil: string; rolconfig: string[] | null; rolreplication: boolean; rolbypassrls: boolean;
  }>(`SELECT ARRAY(
      SELECT pg_get_userbyid(roleid) FROM pg_catalog.pg_auth_members members WHERE member = pg_roles.oid
    )::text[] AS roles, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolconnlimit,
    COALESCE(rolvaliduntil::TEXT, 'infinity') AS validuntil, rolconfig, rolreplication, rolbypassrls
    FROM pg_catalog.pg_roles WHERE rolname=$1`, [str(state, "name")]);
  const r = found.rows[0];
  if (!r) return undefined;
  const config = r.rolconfig ?? [];
  const setting = (key: string) => config.find((c) => c.startsWith(key))?.slice(key.length + 1);
  // strconv.Atoi: a value with a unit (set by hand, e.g. 5min) fails the read, as it fails the provider's.
  const timeout = (key: string) => {
    const value = setting(key)?.split(", ")[0];
    if (value === undefined) return 0;
    if (!/^[+-]?\d+$/.test(value)) throw new Error(`error reading ${key}: strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
    return Number(value);
  };
  // readAssumeRole keeps the last entry starting with "role"
  const assumeRole = config.filter((c) => c.startsWith("role")).map((c) => c.slice("role=".length)).pop() ?? "";
  const searchPath = setting("search_path");
  return {
    ...state,
    name: r.rolname, connectionLimit: r.rolconnlimit, createDatabase: r.rolcreatedb, createRole: r.rolcreaterole, encryptedPassword: true,
    inherit: r.rolinherit, login: r.rolcanlogin, superuser: r.rolsuper, validUntil: r.validuntil, replication: r.rolreplication,
    bypassRowLevelSecurity: r.rolbypassrls, roles: [...new Set(r.roles)].sort(),
    searchPaths: searchPath === undefined ? [] : searchPath.split(", ").map((p) => p.replaceAll('"', "")),
    assumeRole, statementTimeout: timeout("statement_timeout"), idleInTransactionSessionTimeout: timeout("idle_in_transaction_session_timeout"),
  };
}

/** resourcePostgreSQLGrantRead: gone when its role or schema is; else readRolePrivileges (tables: relkind 'r' only). */
async function readGrant(tx: Tx, state: Attributes): Promise<Attributes | undefined> {
  const role = str(state, "role");
  const objectType = str(state, "objectType");
  const schema = str(state, "schema");
  if (role !== "public" && !(await exists(tx, "SELECT 1 FROM pg_roles WHERE rolname=$1", role))) return undefined;
  if (objectType !== "database" && schema !== "" && !(await exists(tx, "SELECT 1 FROM pg_namespace WHERE nspname=$1", schema))) return undefined;
  const oid = await roleOid(tx, role);
  const wanted = list(state, "privileges");
  const withPrivileges = (privileges: string[]): Attributes => (sameSet(privileges, wanted) ? state : { ...state, privileges: [...privileges].sort() });
  const aggregated = async (sql: string, params: unknown[]) => (await tx.query<{ p: string[] | null }>(sql, params)).rows[0]?.p ?? [];
  if (objectType === "database")
    return withPrivileges(await aggregated("SELECT array_agg(privilege_type) AS p FROM (SELECT (aclexplode(datacl)).* FROM pg_database WHERE datname=$1) as privileges WHERE grantee = $2", [str(state, "database"), oid]));
  if (objectType === "schema")
    return withPrivileges(await aggregated("SELECT array_agg(privilege_type) AS p FROM (SELECT (aclexplode(nspacl)).* FROM pg_namespace WHERE nspname=$1) as privileges WHERE grantee = $2", [schema, oid]));
  const rows = ["function", "procedure", "routine"].includes(objectType)
    ? await tx.query<{ name: string; p: string[] }>(`SELECT pg_proc.proname AS name, array_remove(array_agg(privilege_type), NULL) AS p
        FROM pg_proc JOIN pg_namespace ON pg_namespace.oid = pg_proc.pronamespace
        LEFT JOIN (SELECT acls.* FROM (SELECT proname, pronamespace, (aclexplode(proacl)).* FROM pg_proc) acls WHERE grantee = $1) privs
        USING (proname, pronamespace) WHERE nspname = $2 GROUP BY pg_proc.proname`, [oid, schema])
    : await tx.query<{ name: string; p: string[] }>(`SELECT pg_class.relname AS name, array_remove(array_agg(privilege_type), NULL) AS p
        FROM pg_class JOIN pg_namespace ON pg_namespace.oid = pg_class.relnamespace
        LEFT JOIN (SELECT acls.* FROM (SELECT relname, relnamespace, relkind, (aclexplode(relacl)).* FROM pg_class c) as acls WHERE grantee=$1) privs
        USING (relname, relnamespace, relkind) WHERE nspname = $2 AND relkind = $3 GROUP BY pg_class.relname`, [oid, schema, OBJECT_TYPES[objectType]]);
  const objects = list(state, "objects");
  // The first object whose privileges differ from the state's becomes the state's privileges, forcing an update.
  for (const row of rows.rows) {
    if (objects.length > 0 && !objects.includes(row.name)) continue;
    if (!sameSet(row.p, wanted)) return withPrivileges(row.p);
  }
  return state;
}

/** readRoleDefaultPrivileges: it too takes pgLockRole on the owner. */
async function readDefaultPrivileges(tx: Tx, state: Attributes): Promise<Attributes | undefined> {
  const owner = str(state, "owner");
  const schema = str(state, "schema");
  await lockRole(tx, owner);
  const oid = await roleOid(tx, str(state, "role"));
  const type = OBJECT_TYPES[str(state, "objectType")];
  const found = schema !== ""
    ? await tx.query<{ p: string[] | null }>(`SELECT array_agg(prtype) AS p FROM (
        SELECT defaclnamespace, (aclexplode(defaclacl)).* FROM pg_default_acl WHERE defaclobjtype = $3
      ) AS t (namespace, grantor_oid, grantee_oid, prtype, grantable)
      JOIN pg_namespace ON pg_namespace.oid = namespace
      WHERE grantee_oid = $1 AND nspname = $2 AND pg_get_userbyid(grantor_oid) = $4`, [oid, schema, type, owner])
    : await tx.query<{ p: string[] | null }>(`SELECT array_agg(prtype) AS p FROM (
        SELECT defaclnamespace, (aclexplode(defaclacl)).* FROM pg_default_acl WHERE defaclobjtype = $2
      ) AS t (namespace, grantor_oid, grantee_oid, prtype, grantable)
      WHERE grantee_oid = $1 AND namespace = 0 AND pg_get_userbyid(grantor_oid) = $3`, [oid, type, owner]);
  const privileges = found.rows[0]?.p ?? [];
  const wanted = list(state, "privileges");
  // No privileges read back means "gone", unless none were asked for.
  if (privileges.length === 0 && wanted.length > 0) return undefined;
  return sameSet(privileges, wanted) ? state : { ...state, privileges: [...privileges].sort() };
}

/** resourcePostgreSQLFunctionReadImpl: pg_get_functiondef, taken apart by PGFunction.Parse's regular expression. */
async function readFunction(tx: Tx, state: Attributes, database: string): Promise<Attributes | undefined> {
  const found = await tx.query<{ def: string }>(
    "SELECT pg_get_functiondef(p.oid::regproc) AS def FROM pg_proc p LEFT JOIN pg_namespace n ON p.pronamespace = n.oid WHERE p.oid = to_regprocedure($1)",
    [functionSignature(state)],
  );
  if (!found.rows[0]) return undefined;
  return { ...state, database, ...parseFunctionDefinition(found.rows[0].def) };
}

/** PGFunction.Parse and PGFunctionArg.Parse (model_pg_function.go): JavaScript's backtracking gives the same match as Go's leftmost-first. */
export function parseFunctionDefinition(definition: string): Attributes {
  const m = /CREATE\sOR\sREPLACE\sFUNCTION\s(?<schema>[^.]+)\.(?<name>[^(]+)\((?<args>.*)\).*RETURNS\s(?<returns>[^\n]+).*LANGUAGE\s(?<language>[^\n\s]+)\s*(?<volatility>(STABLE|IMMUTABLE)?)\s*(?<parallel>(PARALLEL (SAFE|RESTRICTED))?)\s*(?<strict>(STRICT)?)\s*(?<security>(SECURITY DEFINER)?).*\$[a-zA-Z]*\$(?<body>.*)\$[a-zA-Z]*\$/is
    .exec(definition)?.groups ?? {};
  const args = (m.args ?? "") === "" ? [] : m.args!.split(",").map((raw) => {
    const withDefault = /(?<data>.*)\sDEFAULT\s(?<def>.*)/is.exec(raw)?.groups;
    const data = withDefault ? withDefault.data! : raw;
    const arg = /((?<mode>IN|OUT|INOUT|VARIADIC)\s)?(?<name>[^\s]+)\s(?<type>.*)/is.exec(data)?.groups ?? {};
    return { type: arg.type ?? "", name: arg.name ?? "", mode: arg.mode || "IN", default: withDefault?.def ?? "" };
  });
  return {
    schema: m.schema ?? "", name: m.name ?? "", returns: m.returns ?? "", language: m.language ?? "", body: m.body ?? "", args,
    securityDefiner: (m.security ?? "") !== "", strict: (m.strict ?? "") !== "",
    volatility: m.volatility || "VOLATILE", parallel: m.parallel ? m.parallel.replace(/^PARALLEL /, "") : "UNSAFE",
  };
}
