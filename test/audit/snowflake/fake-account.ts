import type { DeclaredResource } from "../../../infra/platforms/declare";
import { SNOWFLAKE_TYPES } from "../../../infra/platforms/snowflake/interpret";
import { identifierParts, objectName } from "../../../infra/platforms/snowflake/identifiers";
import type { ExecutingConnection } from "../../../infra/audit/snowflake/session";

// A Snowflake account for the live audit's tests, answering through snowflake-sdk's Connection.execute callback with
// result sets shaped as Snowflake documents them:
//   SHOW GRANTS / SHOW FUTURE GRANTS   docs "SHOW GRANTS" Output; provider v1.2.1 pkg/sdk/grants.go grantRow (lower-case
//                                      columns; current grants: granted_on/granted_to/granted_by, future: grant_on/grant_to;
//                                      names fully qualified, future ones as DB.SCHEMA.<TABLE>; grant_option 'true'/'false')
//   SHOW SCHEMAS                       docs "SHOW SCHEMAS"; provider pkg/sdk/schemas.go schemaDBRow (options "MANAGED ACCESS")
//   SHOW USERS                         docs "SHOW USERS"; provider pkg/sdk/users.go userDBRow (default_secondary_roles '["ALL"]')
//   ACCOUNT_USAGE.GRANTS_TO_ROLES/USERS docs "GRANTS_TO_ROLES view", "GRANTS_TO_USERS view" (upper-case columns, NAME bare
//                                      with TABLE_CATALOG/TABLE_SCHEMA, GRANT_OPTION BOOLEAN, DELETED_ON for revoked rows)
// Types are snowflake-sdk's column types. A statement it does not know fails as Snowflake fails a bad one.

export type GranteeKind = "ROLE" | "DATABASE_ROLE" | "USER";

/** One row of GRANTS_TO_ROLES: the account's one record of privileges, which SHOW GRANTS ON shows per object. */
export interface Grant {
  privilege: string;
  /** SCHEMA, DATABASE, TABLE, VIEW, ROLE, DATABASE_ROLE, ACCOUNT, ... */
  grantedOn: string;
  /** Bare object name; for ROLE and DATABASE_ROLE the role granted. */
  name: string;
  catalog: string | null;
  schema: string | null;
  grantedTo: GranteeKind;
  grantee: string;
  grantOption?: boolean;
  deleted?: boolean;
}

export interface FutureGrant {
  database: string;
  /** Absent: a database-level future grant. */
  schema?: string;
  privilege: string;
  /** TABLE, VIEW, PROCEDURE, ... */
  grantOn: string;
  grantTo: "ROLE" | "DATABASE_ROLE";
  grantee: string;
}

export interface SchemaRow {
  database: string;
  name: string;
  owner: string;
  ownerRoleType?: "ROLE" | "DATABASE_ROLE";
  managedAccess: boolean;
  transient?: boolean;
  comment?: string;
}

export interface UserRow {
  name: string;
  type: "PERSON" | "SERVICE" | "LEGACY_SERVICE";
  defaultRole?: string;
  /** Snowflake's default for new users is ('ALL') since bundle 2024_08. */
  defaultSecondaryRoles: "ALL" | "NONE";
  disabled?: boolean;
}

interface Column {
  name: string;
  type: string;
}

const CREATED_ON = { getEpochSeconds: () => 1_700_000_000, toString: () => "2023-11-14 22:13:20.000 -0800" };
const flag = (value: boolean): string => (value ? "true" : "false");

const SHOW_GRANTS_COLUMNS: Column[] = [
  { name: "created_on", type: "timestamp_ltz" }, { name: "privilege", type: "text" }, { name: "granted_on", type: "text" },
  { name: "name", type: "text" }, { name: "granted_to", type: "text" }, { name: "grantee_name", type: "text" },
  { name: "grant_option", type: "text" }, { name: "granted_by", type: "text" },
];
const FUTURE_GRANTS_COLUMNS: Column[] = [
  { name: "created_on", type: "timestamp_ltz" }, { name: "privilege", type: "text" }, { name: "grant_on", type: "text" },
  { name: "name", type: "text" }, { name: "grant_to", type: "text" }, { name: "grantee_name", type: "text" },
  { name: "grant_option", type: "text" },
];
const SHOW_SCHEMAS_COLUMNS: Column[] = ["created_on", "name", "is_default", "is_current", "database_name", "owner", "comment", "options", "retention_time", "owner_role_type", "budget"]
  .map((name) => ({ name, type: name === "created_on" ? "timestamp_ltz" : "text" }));
const SHOW_USERS_COLUMNS: Column[] = [
  "name", "created_on", "login_name", "display_name", "first_name", "last_name", "email", "mins_to_unlock", "days_to_expiry",
  "comment", "disabled", "must_change_password", "snowflake_lock", "default_warehouse", "default_namespace", "default_role",
  "default_secondary_roles", "ext_authn_duo", "ext_authn_uid", "mins_to_bypass_mfa", "owner", "last_success_login",
  "expires_at_time", "locked_until_time", "has_password", "has_rsa_public_key", "type", "has_mfa",
].map((name) => ({ name, type: /created_on|_login$|_time$/.test(name) ? "timestamp_ltz" : "text" }));
const text = (...names: string[]): Column[] => names.map((name) => ({ name, type: "text" }));

export interface FakeResult {
  columns: Column[];
  rows: Record<string, unknown>[];
}

export class FakeSnowflakeAccount {
  grants: Grant[] = [];
  futureGrants: FutureGrant[] = [];
  schemas: SchemaRow[] = [];
  users: UserRow[] = [];
  /** Every statement received, in order. */
  readonly statements: string[] = [];
  /** The account's clock (SYSDATE()). */
  now = new Date();
  /** Schemas dropped, in order. */
  readonly dropped: string[] = [];
  /** The session's primary role (CURRENT_ROLE()): DROP SCHEMA needs it to own the schema or inherit its owner. */
  sessionRole = "CI_BUILDER";
  /** A schema DROP ... RESTRICT leaves (as Snowflake does when foreign keys elsewhere reference its tables). */
  dropRefusal?: (schema: SchemaRow) => boolean;
  /** Rewrites a result before it is returned: how tests make Snowflake answer in a shape the audit must refuse. */
  reshape?: (sqlText: string, result: FakeResult) => FakeResult;

  constructor(readonly database: string) {
    // The system roles' own hierarchy (docs "Overview of Access Control": system-defined roles).
    this.grantRole("SYSADMIN", "ROLE", "ACCOUNTADMIN");
    this.grantRole("SECURITYADMIN", "ROLE", "ACCOUNTADMIN");
    this.grantRole("USERADMIN", "ROLE", "SECURITYADMIN");
    this.grants.push({ privilege: "MANAGE GRANTS", grantedOn: "ACCOUNT", name: "ACME", catalog: null, schema: null, grantedTo: "ROLE", grantee: "SECURITYADMIN" });
    this.grants.push({ privilege: "OWNERSHIP", grantedOn: "DATABASE", name: database, catalog: null, schema: null, grantedTo: "ROLE", grantee: "SYSADMIN" });
  }

  /** GRANT ROLE role TO {ROLE|USER} grantee. */
  grantRole(role: string, to: GranteeKind, grantee: string): this {
    this.grants.push({ privilege: "USAGE", grantedOn: "ROLE", name: role, catalog: null, schema: null, grantedTo: to, grantee });
    return this;
  }

  grantDatabaseRole(databaseRole: string, to: GranteeKind, grantee: string): this {
    this.grants.push({ privilege: "USAGE", grantedOn: "DATABASE_ROLE", name: databaseRole, catalog: this.database, schema: null, grantedTo: to, grantee });
    return this;
  }

  /** A table made by `owner` in a schema: its OWNERSHIP row, and the schema's future grants on tables applied to it. */
  createTable(schema: string, table: string, owner: string): this {
    this.grants.push({ privilege: "OWNERSHIP", grantedOn: "TABLE", name: table, catalog: this.database, schema, grantedTo: "ROLE", grantee: owner });
    const schemaLevel = this.futureGrants.filter((f) => f.schema === schema && f.grantOn === "TABLE");
    const applying = schemaLevel.length > 0 ? schemaLevel : this.futureGrants.filter((f) => f.schema === undefined && f.grantOn === "TABLE");
    for (const f of applying)
      this.grants.push({ privilege: f.privilege, grantedOn: "TABLE", name: table, catalog: this.database, schema, grantedTo: f.grantTo, grantee: f.grantee });
    return this;
  }

  /** The program's Snowflake resources, applied as the provider would (provisioner = the role that creates). */
  apply(resources: readonly DeclaredResource[], provisioner: string): this {
    const bare = (id: unknown) => objectName(String(id));
    for (const r of resources) {
      const i = r.inputs as Record<string, any>;
      switch (r.type) {
        case SNOWFLAKE_TYPES.schema:
          this.schemas.push({ database: this.database, name: String(i.name), owner: provisioner, managedAccess: i.withManagedAccess === "true" });
          break;
        case SNOWFLAKE_TYPES.grantAccountRole:
          if (i.userName !== undefined) this.grantRole(bare(i.roleName), "USER", bare(i.userName));
          else this.grantRole(bare(i.roleName), "ROLE", bare(i.parentRoleName));
          break;
        case SNOWFLAKE_TYPES.grantOwnership: {
          const [, schema] = identifierParts(String(i.on.objectName));
          const row = this.schemas.find((s) => s.name === schema);
          if (row) row.owner = bare(i.accountRoleName);
          break;
        }
        case SNOWFLAKE_TYPES.serviceUser:
          this.users.push({ name: String(i.name), type: "SERVICE", defaultRole: i.defaultRole, defaultSecondaryRoles: "ALL" });
          break;
        case SNOWFLAKE_TYPES.grantPrivileges: {
          const role = bare(i.accountRoleName);
          for (const privilege of i.privileges as string[]) {
            if (i.onAccountObject) {
              this.grants.push({ privilege, grantedOn: i.onAccountObject.objectType, name: bare(i.onAccountObject.objectName), catalog: null, schema: null, grantedTo: "ROLE", grantee: role });
            } else if (i.onSchema) {
              const [database, schema] = identifierParts(String(i.onSchema.schemaName));
              this.grants.push({ privilege, grantedOn: "SCHEMA", name: schema!, catalog: database!, schema: null, grantedTo: "ROLE", grantee: role });
            } else if (i.onSchemaObject?.future) {
              const [database, schema] = identifierParts(String(i.onSchemaObject.future.inSchema));
              this.futureGrants.push({ database: database!, schema: schema!, privilege, grantOn: String(i.onSchemaObject.future.objectTypePlural).replace(/S$/, ""), grantTo: "ROLE", grantee: role });
            }
            // ON ALL covers only the objects that exist when it runs; tables come later, through the future grants.
          }
          break;
        }
        default:
          break;
      }
    }
    return this;
  }

  /** The connection the audit is handed, in place of snowflake.createConnection(...).connect(). */
  connection(): ExecutingConnection {
    const execute = ((options: { sqlText: string; complete?: (error: unknown, statement: unknown, rows?: unknown[]) => void }) => {
      this.statements.push(options.sqlText);
      setImmediate(() => {
        let result: FakeResult;
        try {
          result = this.answer(options.sqlText);
          if (this.reshape) result = this.reshape(options.sqlText, result);
        } catch (error) {
          options.complete?.(error as Error, statementOf([]), undefined);
          return;
        }
        options.complete?.(undefined, statementOf(result.columns), result.rows);
      });
      return statementOf([]);
    }) as unknown as ExecutingConnection["execute"];
    return { execute, destroy: ((callback: (error: unknown, connection: unknown) => void) => callback(undefined, undefined)) as unknown as ExecutingConnection["destroy"] };
  }

  private answer(sqlText: string): FakeResult {
    const live = this.grants.filter((g) => !g.deleted);
    const db = this.database;
    let m: RegExpExecArray | null;
    if ((m = /^SHOW SCHEMAS LIKE '([^']*)' IN DATABASE "([^"]+)"$/.exec(sqlText))) {
      // LIKE in SHOW is case-insensitive, % any run and _ any one character (docs "SHOW SCHEMAS", LIKE).
      const like = new RegExp(`^${m[1]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll("%", ".*").replaceAll("_", ".")}$`, "i");
      const rows = this.schemas.filter((s) => s.database === m![2] && like.test(s.name)).map((s) => ({
        created_on: CREATED_ON, name: s.name, is_default: "N", is_current: "N", database_name: s.database, owner: s.owner,
        comment: s.comment ?? "", options: [s.transient ? "TRANSIENT" : "", s.managedAccess ? "MANAGED ACCESS" : ""].filter(Boolean).join(", "),
        retention_time: "1", owner_role_type: s.ownerRoleType ?? "ROLE", budget: null,
      }));
      return { columns: SHOW_SCHEMAS_COLUMNS, rows };
    }
    if ((m = /^SHOW GRANTS ON DATABASE "([^"]+)"$/.exec(sqlText))) {
      return { columns: SHOW_GRANTS_COLUMNS, rows: live.filter((g) => g.grantedOn === "DATABASE" && g.name === m![1]).map((g) => this.showRow(g, g.name)) };
    }
    if ((m = /^SHOW GRANTS ON SCHEMA "([^"]+)"\."([^"]+)"$/.exec(sqlText))) {
      const schema = m[2]!;
      if (!this.schemas.some((s) => s.name === schema)) throw new Error(`SQL compilation error:\nSchema '${m[1]}.${schema}' does not exist or not authorized.`);
      const owner = this.schemas.find((s) => s.name === schema)!;
      const ownership: Grant = { privilege: "OWNERSHIP", grantedOn: "SCHEMA", name: schema, catalog: db, schema: null, grantedTo: owner.ownerRoleType ?? "ROLE", grantee: owner.owner };
      // Since bundle 2023_08 a managed access schema also lists MANAGE GRANTS for its owner (docs BCR-1397).
      const manage: Grant[] = owner.managedAccess ? [{ ...ownership, privilege: "MANAGE GRANTS" }] : [];
      const rows = [ownership, ...manage, ...live.filter((g) => g.grantedOn === "SCHEMA" && g.catalog === m![1] && g.name === schema)].map((g) => this.showRow(g, `${db}.${schema}`));
      return { columns: SHOW_GRANTS_COLUMNS, rows };
    }
    if ((m = /^SHOW FUTURE GRANTS IN (SCHEMA|DATABASE) "([^"]+)"(?:\."([^"]+)")?$/.exec(sqlText))) {
      const inSchema = m[1] === "SCHEMA" ? m[3] : undefined;
      const rows = this.futureGrants.filter((f) => f.database === m![2] && f.schema === inSchema).map((f) => ({
        created_on: CREATED_ON, privilege: f.privilege, grant_on: f.grantOn,
        name: `${f.database}.${f.schema ? `${f.schema}.` : ""}<${f.grantOn}>`, grant_to: f.grantTo,
        grantee_name: f.grantTo === "DATABASE_ROLE" ? `${f.database}.${f.grantee}` : f.grantee, grant_option: "false",
      }));
      return { columns: FUTURE_GRANTS_COLUMNS, rows };
    }
    if (sqlText === "SHOW USERS") {
      const rows = this.users.map((u) => Object.fromEntries(SHOW_USERS_COLUMNS.map(({ name }) => [name, {
        name: u.name, login_name: u.name, created_on: CREATED_ON, disabled: flag(u.disabled ?? false), default_role: u.defaultRole ?? "",
        default_secondary_roles: u.defaultSecondaryRoles === "ALL" ? '["ALL"]' : "", type: u.type, owner: "USERADMIN",
        has_password: "false", has_rsa_public_key: flag(u.type !== "PERSON"), must_change_password: "false", snowflake_lock: "false",
      }[name] ?? null])));
      return { columns: SHOW_USERS_COLUMNS, rows };
    }
    if (sqlText.includes("FROM SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_USERS") && sqlText.includes("WHERE DELETED_ON IS NULL")) {
      const rows = live.filter((g) => g.grantedOn === "ROLE" && g.grantedTo === "USER").map((g) => ({ ROLE: g.name, GRANTED_TO: "USER", GRANTEE_NAME: g.grantee }));
      return { columns: text("ROLE", "GRANTED_TO", "GRANTEE_NAME"), rows };
    }
    if (sqlText.includes("FROM SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_ROLES") && sqlText.includes("GRANTED_ON = 'ACCOUNT' AND PRIVILEGE = 'MANAGE GRANTS'")) {
      // Role-to-user grants live in GRANTS_TO_USERS; GRANTS_TO_ROLES has grants to roles (and database roles to users).
      const rows = live
        .filter((g) => ((g.grantedOn === "ROLE" || g.grantedOn === "DATABASE_ROLE") && g.privilege === "USAGE" && !(g.grantedOn === "ROLE" && g.grantedTo === "USER")) || (g.grantedOn === "ACCOUNT" && g.privilege === "MANAGE GRANTS"))
        .map((g) => ({ PRIVILEGE: g.privilege, GRANTED_ON: g.grantedOn, NAME: g.name, TABLE_CATALOG: g.catalog, GRANTED_TO: g.grantedTo, GRANTEE_NAME: g.grantee }));
      return { columns: text("PRIVILEGE", "GRANTED_ON", "NAME", "TABLE_CATALOG", "GRANTED_TO", "GRANTEE_NAME"), rows };
    }
    if ((m = /FROM SNOWFLAKE\.ACCOUNT_USAGE\.GRANTS_TO_ROLES\s+WHERE DELETED_ON IS NULL AND TABLE_CATALOG = '([^']+)'[\s\S]*PRIVILEGE IN \(([^)]*)\)\s+GROUP BY PRIVILEGE, GRANTED_ON, TABLE_SCHEMA, GRANTED_TO, GRANTEE_NAME$/.exec(sqlText))) {
      const privileges = new Set(m[2]!.split(",").map((p) => p.trim().replace(/^'|'$/g, "")));
      const groups = new Map<string, Grant[]>();
      for (const g of live) {
        if (g.catalog !== m[1] || !g.schema?.toUpperCase().startsWith("PROD_") || ["SCHEMA", "DATABASE"].includes(g.grantedOn) || !privileges.has(g.privilege)) continue;
        const key = [g.privilege, g.grantedOn, g.schema, g.grantedTo, g.grantee].join("|");
        groups.set(key, [...(groups.get(key) ?? []), g]);
      }
      const rows = [...groups.values()].map((gs) => ({
        PRIVILEGE: gs[0]!.privilege, GRANTED_ON: gs[0]!.grantedOn, TABLE_SCHEMA: gs[0]!.schema, GRANTED_TO: gs[0]!.grantedTo, GRANTEE_NAME: gs[0]!.grantee,
        OBJECT_COUNT: gs.length, SOME_NAMES: gs.map((g) => g.name).sort().slice(0, 3),
      }));
      return { columns: [...text("PRIVILEGE", "GRANTED_ON", "TABLE_SCHEMA", "GRANTED_TO", "GRANTEE_NAME"), { name: "OBJECT_COUNT", type: "fixed" }, { name: "SOME_NAMES", type: "array" }], rows };
    }
    if (sqlText === `SELECT TO_VARCHAR(SYSDATE(), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS NOW, CURRENT_ROLE() AS ROLE`)
      return { columns: text("NOW", "ROLE"), rows: [{ NOW: this.now.toISOString().replace(/\.\d{3}Z$/, "Z"), ROLE: this.sessionRole }] };
    if ((m = /^DROP SCHEMA "([^"]+)"\."([^"]+)" RESTRICT$/.exec(sqlText))) {
      const schema = this.schemas.find((s) => s.database === m![1] && s.name === m![2]);
      if (schema === undefined) throw new Error(`SQL compilation error:\nSchema '${m[1]}.${m[2]}' does not exist or not authorized.`);
      // docs "DROP SCHEMA", Access control requirements: OWNERSHIP, held or inherited through the role hierarchy.
      if (!this.inherits(this.sessionRole, schema.owner)) throw new Error(`SQL access control error:\nInsufficient privileges to operate on schema '${schema.name}'`);
      if (this.dropRefusal?.(schema)) return { columns: text("status"), rows: [{ status: `Cannot drop schema '${schema.name}', as it is referenced by foreign keys.` }] };
      this.schemas = this.schemas.filter((s) => s !== schema);
      this.dropped.push(schema.name);
      return { columns: text("status"), rows: [{ status: `${schema.name} successfully dropped.` }] };
    }
    throw new Error(`SQL compilation error: the fake account does not know this statement:\n${sqlText}`);
  }

  /** Whether `role` is `held` or a role `held` has been granted to, directly or through other roles. */
  private inherits(role: string, held: string): boolean {
    const seen = new Set<string>();
    const walk = (r: string): boolean => r === held || (!seen.has(r) && (seen.add(r), this.grants.some((g) => g.grantedOn === "ROLE" && g.grantedTo === "ROLE" && g.grantee === r && walk(g.name))));
    return walk(role);
  }

  private showRow(g: Grant, name: string): Record<string, unknown> {
    return {
      created_on: CREATED_ON, privilege: g.privilege, granted_on: g.grantedOn, name, granted_to: g.grantedTo,
      grantee_name: g.grantedTo === "DATABASE_ROLE" ? `${this.database}.${g.grantee}` : g.grantee,
      grant_option: flag(g.grantOption ?? false), granted_by: "SYSADMIN",
    };
  }
}

/** The statement object snowflake-sdk hands to `complete`: the audit reads only getColumns(). */
function statementOf(columns: Column[]) {
  return { getColumns: () => columns.map((c, index) => ({ getName: () => c.name, getType: () => c.type, getIndex: () => index })) };
}
