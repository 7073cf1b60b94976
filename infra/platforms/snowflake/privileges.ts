// What the boundary's "read" and "write" mean in Snowflake privileges, and which privileges count as writing when
// resources are read back. The adapter grants from the first half; the interpreter (and so the audit) judges by the second.

/** Object kinds a reader selects from, as the plural the grant statements take. */
export const READ_OBJECT_KINDS = ["TABLES", "VIEWS"] as const;
/** ON ALL covers what exists now and ON FUTURE what is created later; read means both. */
export const READ_SCOPES = ["all", "future"] as const;

export const SNOWFLAKE_PRIVILEGES = {
  /** USAGE and the CREATEs a dbt-style production run needs; no MODIFY (the writer cannot alter the schema itself), no
   *  materialized views or dynamic tables, which readers' TABLES/VIEWS grants would not cover, and no CREATE TASK: a task
   *  runs only with the account-level EXECUTE TASK, which the stack does not grant. */
  write: {
    schema: [
      "USAGE",
      "CREATE TABLE",
      "CREATE VIEW",
      "CREATE SEQUENCE",
      "CREATE FUNCTION",
      "CREATE PROCEDURE",
      "CREATE STAGE",
      "CREATE FILE FORMAT",
      "CREATE STREAM",
    ],
  },
  read: { schema: ["USAGE"], objects: ["SELECT"] },
} as const;

/** Privileges on a schema that let the holder add to it or change it. */
export const SCHEMA_WRITE_PRIVILEGES: ReadonlySet<string> = new Set(["OWNERSHIP", "ALL", "ALL PRIVILEGES", "MODIFY"]);
/** Privileges on objects in a schema that change data or the objects (OPERATE refreshes dynamic tables and runs tasks). */
export const OBJECT_WRITE_PRIVILEGES: ReadonlySet<string> = new Set([
  "INSERT", "UPDATE", "DELETE", "TRUNCATE", "OWNERSHIP", "ALL", "ALL PRIVILEGES", "OPERATE", "EVOLVE SCHEMA",
]);
export const OBJECT_READ_PRIVILEGES: ReadonlySet<string> = new Set(["SELECT", "ALL", "ALL PRIVILEGES"]);

export const isSchemaWrite = (privilege: string): boolean =>
  privilege.startsWith("CREATE ") || SCHEMA_WRITE_PRIVILEGES.has(privilege);
