import { OBJECT_WRITE_PRIVILEGES, isSchemaWrite } from "../../platforms/snowflake/privileges";
import { quoted } from "../../platforms/snowflake/identifiers";
import type { SnowflakeSession } from "./session";
import {
  OBJECT_GRANTS, ROLE_GRANTS, SHOW_FUTURE_GRANTS, SHOW_GRANTS_ON, SHOW_SCHEMAS, SHOW_USERS, USER_GRANTS, flagOf, readRows, textOf,
  type ResultShape,
} from "./shapes";

// What the live Snowflake audit reads, and the catalog it makes of it: every power over a PROD_ schema, who holds it,
// and the grants of roles to roles and users that carry it further. Reads are SHOW for the prod schemas themselves
// (current) and ACCOUNT_USAGE for the account-wide role graph and per-object grants (one query each, however many roles
// and tables, but up to 120 minutes behind: docs "GRANTS_TO_ROLES view", "GRANTS_TO_USERS view", Usage notes).

/** What a holder has over a prod schema that lets it write there, or make or destroy one. */
export type SnowflakePower =
  | "schema owner"
  | "schema privilege"
  | "object owner"
  | "object privilege"
  | "future grant (schema)"
  | "future grant (database)"
  | "MANAGE GRANTS"
  | "CREATE SCHEMA on database"
  | "database owner";

export type HolderKind = "role" | "database role" | "user" | "other";

export interface Holder {
  kind: HolderKind;
  /** Exact, as Snowflake stores it; a database role as DB.ROLE; "other" as its GRANTED_TO and name. */
  name: string;
}

export const holderKey = (h: Holder): string => `${h.kind}:${h.name}`;

export interface HeldPower {
  holder: Holder;
  schema: string;
  power: SnowflakePower;
  /** The privilege (CREATE TABLE, INSERT, ...); null for ownership. */
  privilege: string | null;
  /** Up to three objects it covers (tables, "future TABLEs"), and how many in all. */
  objects: string[];
  objectCount: number;
  /** Where it was read: SHOW (current) or ACCOUNT_USAGE (up to 120 minutes behind). */
  source: "SHOW" | "ACCOUNT_USAGE";
}

export interface RoleGrant {
  /** The role granted: an account or database role. */
  role: Holder;
  /** Who holds it: a role, database role or user. */
  grantee: Holder;
}

export interface SnowflakeUser {
  name: string;
  type: string;
  disabled: boolean;
  defaultRole: string;
  /** DEFAULT_SECONDARY_ROLES as SHOW USERS prints it: '["ALL"]', '[]' or ''. */
  defaultSecondaryRoles: string;
}

export interface SnowflakeCatalog {
  database: string;
  /** Every statement issued, in order. */
  statements: string[];
  prodSchemas: { schema: string; owner: Holder; managedAccess: boolean; transient: boolean }[];
  powers: HeldPower[];
  roleGrants: RoleGrant[];
  users: SnowflakeUser[];
}

/** The names the audit treats as prod schemas: PROD_ in any case, so a quoted "prod_x" look-alike is seen too. */
export const isProdLike = (schema: string): boolean => schema.toUpperCase().startsWith("PROD_");

const sqlString = (text: string): string => `'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;

const WRITE_PRIVILEGE_LIST = [...OBJECT_WRITE_PRIVILEGES].map(sqlString).join(", ");

/** Statements that do not depend on the prod schemas; with the two per schema, 2S + 7 in all. */
export function accountStatements(database: string): Record<"schemas" | "databaseGrants" | "databaseFuture" | "users" | "roleGrants" | "objectGrants" | "userGrants", string> {
  const db = quoted(database);
  return {
    schemas: `SHOW SCHEMAS LIKE 'PROD%' IN DATABASE ${db}`,
    databaseGrants: `SHOW GRANTS ON DATABASE ${db}`,
    databaseFuture: `SHOW FUTURE GRANTS IN DATABASE ${db}`,
    users: "SHOW USERS",
    roleGrants: `SELECT PRIVILEGE, GRANTED_ON, NAME, TABLE_CATALOG, GRANTED_TO, GRANTEE_NAME
  FROM SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_ROLES
 WHERE DELETED_ON IS NULL
   AND (GRANTED_ON IN ('ROLE', 'DATABASE_ROLE') AND PRIVILEGE = 'USAGE' OR GRANTED_ON = 'ACCOUNT' AND PRIVILEGE = 'MANAGE GRANTS')`,
    // Grouped in Snowflake, so a schema of 10,000 tables comes back as one row per grantee and privilege.
    objectGrants: `SELECT PRIVILEGE, GRANTED_ON, TABLE_SCHEMA, GRANTED_TO, GRANTEE_NAME, COUNT(*) AS OBJECT_COUNT,
       ARRAY_SLICE(ARRAY_AGG(NAME) WITHIN GROUP (ORDER BY NAME), 0, 3) AS SOME_NAMES
  FROM SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_ROLES
 WHERE DELETED_ON IS NULL AND TABLE_CATALOG = ${sqlString(database)} AND STARTSWITH(UPPER(TABLE_SCHEMA), 'PROD_')
   AND GRANTED_ON NOT IN ('SCHEMA', 'DATABASE') AND PRIVILEGE IN (${WRITE_PRIVILEGE_LIST})
 GROUP BY PRIVILEGE, GRANTED_ON, TABLE_SCHEMA, GRANTED_TO, GRANTEE_NAME`,
    userGrants: "SELECT ROLE, GRANTED_TO, GRANTEE_NAME FROM SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_USERS WHERE DELETED_ON IS NULL",
  };
}

export const schemaStatements = (database: string, schema: string): { grants: string; future: string } => ({
  grants: `SHOW GRANTS ON SCHEMA ${quoted(database, schema)}`,
  future: `SHOW FUTURE GRANTS IN SCHEMA ${quoted(database, schema)}`,
});

/** A grantee as SHOW or ACCOUNT_USAGE names it; database roles qualified with their database when printed bare. */
function holderOf(grantedTo: string, name: string, database: string): Holder {
  const kind = grantedTo.toUpperCase().replace(/[ _]/g, "");
  if (kind === "ROLE" || kind === "ACCOUNTROLE") return { kind: "role", name };
  if (kind === "DATABASEROLE") return { kind: "database role", name: name.includes(".") ? name.replaceAll('"', "") : `${database}.${name}` };
  if (kind === "USER") return { kind: "user", name };
  // Applications, application and instance roles, shares: shown as they are, never walked further.
  return { kind: "other", name: `${grantedTo} ${name}` };
}

/** The last part of a dotted SHOW name (DB.SCHEMA.<TABLE>), quotes removed. */
const lastPart = (name: string): string => name.split(".").at(-1)!.replaceAll('"', "");

/** Reads the account in 2S + 7 statements for S prod schemas, all sent at once; refuses any result of an unknown shape. */
export async function readSnowflakeCatalog(session: SnowflakeSession, database: string): Promise<SnowflakeCatalog> {
  const statements: string[] = [];
  const run = async (shape: ResultShape, sqlText: string) => {
    statements.push(sqlText);
    return readRows(shape, sqlText, await session.query(sqlText));
  };
  const account = accountStatements(database);
  const [schemaRows, databaseGrants, databaseFuture, userRows, roleRows, objectRows, userGrantRows] = await Promise.all([
    run(SHOW_SCHEMAS, account.schemas),
    run(SHOW_GRANTS_ON, account.databaseGrants),
    run(SHOW_FUTURE_GRANTS, account.databaseFuture),
    run(SHOW_USERS, account.users),
    run(ROLE_GRANTS, account.roleGrants),
    run(OBJECT_GRANTS, account.objectGrants),
    run(USER_GRANTS, account.userGrants),
  ]);

  const prodSchemas = schemaRows
    .filter((row) => isProdLike(textOf(row, "name")) && textOf(row, "database_name") === database)
    .map((row) => {
      const options = textOf(row, "options").toUpperCase();
      return {
        schema: textOf(row, "name"),
        owner: holderOf(textOf(row, "owner_role_type") || "ROLE", textOf(row, "owner"), database),
        managedAccess: options.includes("MANAGED ACCESS"),
        transient: options.includes("TRANSIENT"),
      };
    });
  const perSchema = await Promise.all(prodSchemas.map(async ({ schema }) => {
    const sql = schemaStatements(database, schema);
    const [grants, future] = await Promise.all([run(SHOW_GRANTS_ON, sql.grants), run(SHOW_FUTURE_GRANTS, sql.future)]);
    return { schema, grants, future };
  }));

  const powers: HeldPower[] = [];
  const add = (p: Omit<HeldPower, "objects" | "objectCount"> & Partial<Pick<HeldPower, "objects" | "objectCount">>) =>
    powers.push({ objects: [], objectCount: 0, ...p });

  for (const { schema, owner } of prodSchemas) add({ holder: owner, schema, power: "schema owner", privilege: null, source: "SHOW" });
  for (const { schema, grants, future } of perSchema) {
    for (const row of grants) {
      const privilege = textOf(row, "privilege");
      // The owner comes from SHOW SCHEMAS; USAGE and the like write nothing.
      if (privilege === "OWNERSHIP" || !isSchemaWrite(privilege)) continue;
      add({ holder: holderOf(textOf(row, "granted_to"), textOf(row, "grantee_name"), database), schema, power: "schema privilege", privilege, source: "SHOW" });
    }
    for (const row of future) {
      const privilege = textOf(row, "privilege");
      if (!OBJECT_WRITE_PRIVILEGES.has(privilege)) continue;
      add({
        holder: holderOf(textOf(row, "grant_to"), textOf(row, "grantee_name"), database), schema, power: "future grant (schema)", privilege,
        objects: [`future ${textOf(row, "grant_on")}s`], objectCount: 1, source: "SHOW",
      });
    }
  }
  // Database-level future grants apply to a schema only for object kinds it has no schema-level future grant of
  // (docs "GRANT <privileges> … TO ROLE", Future grants: schema-level ones take precedence and database-level ones are ignored).
  for (const row of databaseFuture) {
    const privilege = textOf(row, "privilege");
    if (!OBJECT_WRITE_PRIVILEGES.has(privilege)) continue;
    const kind = textOf(row, "grant_on");
    for (const { schema, future } of perSchema) {
      if (future.some((f) => textOf(f, "grant_on") === kind)) continue;
      add({
        holder: holderOf(textOf(row, "grant_to"), textOf(row, "grantee_name"), database), schema, power: "future grant (database)", privilege,
        objects: [`future ${kind}s`], objectCount: 1, source: "SHOW",
      });
    }
  }
  for (const row of databaseGrants) {
    const privilege = textOf(row, "privilege");
    const power: SnowflakePower | undefined =
      privilege === "OWNERSHIP" ? "database owner" : privilege === "CREATE SCHEMA" || privilege === "ALL" ? "CREATE SCHEMA on database" : undefined;
    if (power === undefined) continue;
    const holder = holderOf(textOf(row, "granted_to"), textOf(row, "grantee_name"), database);
    for (const { schema } of prodSchemas) add({ holder, schema, power, privilege: power === "database owner" ? null : privilege, source: "SHOW" });
  }

  const roleGrants: RoleGrant[] = [];
  for (const row of roleRows) {
    const on = textOf(row, "GRANTED_ON");
    const grantee = holderOf(textOf(row, "GRANTED_TO"), textOf(row, "GRANTEE_NAME"), textOf(row, "TABLE_CATALOG") || database);
    if (on === "ACCOUNT") {
      for (const { schema } of prodSchemas) add({ holder: grantee, schema, power: "MANAGE GRANTS", privilege: "MANAGE GRANTS", source: "ACCOUNT_USAGE" });
      continue;
    }
    const role = on === "DATABASE_ROLE" ? holderOf("DATABASE_ROLE", textOf(row, "NAME"), textOf(row, "TABLE_CATALOG")) : holderOf("ROLE", textOf(row, "NAME"), database);
    roleGrants.push({ role, grantee });
  }
  for (const row of userGrantRows) roleGrants.push({ role: { kind: "role", name: textOf(row, "ROLE") }, grantee: holderOf(textOf(row, "GRANTED_TO"), textOf(row, "GRANTEE_NAME"), database) });

  const present = new Set(prodSchemas.map((s) => s.schema));
  for (const row of objectRows) {
    const schema = textOf(row, "TABLE_SCHEMA");
    // A grant on an object of a schema dropped since ACCOUNT_USAGE last caught up: SHOW is the truth for schemas.
    if (!present.has(schema)) continue;
    const privilege = textOf(row, "PRIVILEGE");
    const names = (row.SOME_NAMES as unknown[]).map((n) => lastPart(String(n)));
    add({
      holder: holderOf(textOf(row, "GRANTED_TO"), textOf(row, "GRANTEE_NAME"), database), schema,
      power: privilege === "OWNERSHIP" ? "object owner" : "object privilege", privilege: privilege === "OWNERSHIP" ? null : privilege,
      objects: names.map((n) => `${textOf(row, "GRANTED_ON").toLowerCase()} ${n}`), objectCount: Number(row.OBJECT_COUNT), source: "ACCOUNT_USAGE",
    });
  }

  const users = userRows.map((row): SnowflakeUser => ({
    name: textOf(row, "name"),
    type: textOf(row, "type") || "PERSON",
    disabled: flagOf(row, "disabled"),
    defaultRole: textOf(row, "default_role"),
    defaultSecondaryRoles: textOf(row, "default_secondary_roles"),
  }));

  return { database, statements, prodSchemas, powers, roleGrants, users };
}
