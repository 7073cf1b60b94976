import type { ResultSet } from "./session";

// The result sets the live audit reads, column by column, as Snowflake documents them. A result that lacks a column,
// or has it with another type, is refused with the difference: an audit that read nothing would report no writers.
//
// Types are snowflake-sdk's column types (lib/connection/result/data_types.js: text, fixed, boolean, timestamp_ltz,
// array, variant). SHOW commands return their flags as text ('true'/'false'); ACCOUNT_USAGE views as BOOLEAN.

type ColumnType = "text" | "fixed" | "boolean" | "timestamp_ltz" | "array" | "variant";

export interface ResultShape {
  /** What produced it, for messages: "SHOW GRANTS ON SCHEMA". */
  what: string;
  /** Where the shape is documented. */
  source: string;
  /** Required columns, by exact (case-sensitive) name, and the types each may have. Extra columns are allowed. */
  columns: Record<string, readonly ColumnType[]>;
}

const TEXT = ["text"] as const;
const FLAG = ["text", "boolean"] as const;
const TIME = ["timestamp_ltz"] as const;

/** SHOW GRANTS ON <object>: docs "SHOW GRANTS" (Output); provider v1.2.1 pkg/sdk/grants.go grantRow. */
export const SHOW_GRANTS_ON: ResultShape = {
  what: "SHOW GRANTS ON",
  source: "docs.snowflake.com/en/sql-reference/sql/show-grants; terraform-provider-snowflake v1.2.1 pkg/sdk/grants.go grantRow",
  columns: { created_on: TIME, privilege: TEXT, granted_on: TEXT, name: TEXT, granted_to: TEXT, grantee_name: TEXT, grant_option: FLAG, granted_by: TEXT },
};

/** SHOW FUTURE GRANTS IN {SCHEMA|DATABASE}: the same command, with grant_on/grant_to (not granted_*) and no granted_by. */
export const SHOW_FUTURE_GRANTS: ResultShape = {
  what: "SHOW FUTURE GRANTS IN",
  source: "docs.snowflake.com/en/sql-reference/sql/show-grants (future grants output); provider v1.2.1 grantRow.GrantOn/GrantTo",
  columns: { created_on: TIME, privilege: TEXT, grant_on: TEXT, name: TEXT, grant_to: TEXT, grantee_name: TEXT, grant_option: FLAG },
};

/** SHOW SCHEMAS: docs "SHOW SCHEMAS" (Output); provider v1.2.1 pkg/sdk/schemas.go schemaDBRow. */
export const SHOW_SCHEMAS: ResultShape = {
  what: "SHOW SCHEMAS",
  source: "docs.snowflake.com/en/sql-reference/sql/show-schemas; provider v1.2.1 pkg/sdk/schemas.go schemaDBRow",
  columns: { created_on: TIME, name: TEXT, database_name: TEXT, owner: TEXT, comment: TEXT, options: TEXT, owner_role_type: TEXT },
};

/** SHOW USERS: docs "SHOW USERS" (Output); provider v1.2.1 pkg/sdk/users.go userDBRow. */
export const SHOW_USERS: ResultShape = {
  what: "SHOW USERS",
  source: "docs.snowflake.com/en/sql-reference/sql/show-users; provider v1.2.1 pkg/sdk/users.go userDBRow",
  columns: { name: TEXT, disabled: FLAG, default_role: TEXT, default_secondary_roles: TEXT, type: TEXT },
};

/** Our selection from SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_ROLES: documented columns by their documented names. */
export const ROLE_GRANTS: ResultShape = {
  what: "SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_ROLES (roles and account privileges)",
  source: "docs.snowflake.com/en/sql-reference/account-usage/grants_to_roles",
  columns: { PRIVILEGE: TEXT, GRANTED_ON: TEXT, NAME: TEXT, TABLE_CATALOG: TEXT, GRANTED_TO: TEXT, GRANTEE_NAME: TEXT },
};

/** GRANTS_TO_ROLES on objects in prod schemas, one row per (grantee, privilege, kind, schema) with a count and a sample. */
export const OBJECT_GRANTS: ResultShape = {
  what: "SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_ROLES (objects in prod schemas)",
  source: "docs.snowflake.com/en/sql-reference/account-usage/grants_to_roles; COUNT is NUMBER (fixed), ARRAY_AGG an ARRAY",
  columns: { PRIVILEGE: TEXT, GRANTED_ON: TEXT, TABLE_SCHEMA: TEXT, GRANTED_TO: TEXT, GRANTEE_NAME: TEXT, OBJECT_COUNT: ["fixed"], SOME_NAMES: ["array"] },
};

/** Our selection from SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_USERS. */
export const USER_GRANTS: ResultShape = {
  what: "SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_USERS",
  source: "docs.snowflake.com/en/sql-reference/account-usage/grants_to_users",
  columns: { ROLE: TEXT, GRANTED_TO: TEXT, GRANTEE_NAME: TEXT },
};

/** Thrown for a result set the audit does not recognise; it names the statement and the difference. */
export class UnrecognisedResultError extends Error {
  constructor(shape: ResultShape, sqlText: string, problem: string) {
    super(`${sqlText}: ${problem}; this is not the result ${shape.what} is documented to return (${shape.source}), so nothing was judged`);
    this.name = "UnrecognisedResultError";
  }
}

const VALUE_CHECK: Record<ColumnType, (value: unknown) => boolean> = {
  text: (v) => typeof v === "string",
  fixed: (v) => typeof v === "number" || typeof v === "bigint" || (typeof v === "string" && /^-?\d+$/.test(v)),
  boolean: (v) => typeof v === "boolean",
  timestamp_ltz: (v) => v instanceof Date || typeof v === "object",
  array: (v) => Array.isArray(v),
  variant: () => true,
};

/** The rows, once every required column is present with a documented type and every value fits that type (or is null). */
export function readRows(shape: ResultShape, sqlText: string, result: ResultSet): Record<string, unknown>[] {
  const types = new Map(result.columns.map((c) => [c.name, c.type.toLowerCase()]));
  const missing = Object.keys(shape.columns).filter((name) => !types.has(name));
  if (missing.length > 0)
    throw new UnrecognisedResultError(shape, sqlText, `no column ${missing.join(", ")} (it has ${result.columns.map((c) => c.name).join(", ") || "no columns"})`);
  for (const [name, allowed] of Object.entries(shape.columns)) {
    const type = types.get(name)!;
    if (!(allowed as readonly string[]).includes(type))
      throw new UnrecognisedResultError(shape, sqlText, `column ${name} is ${type}, expected ${allowed.join(" or ")}`);
    const check = VALUE_CHECK[type as ColumnType];
    const bad = result.rows.findIndex((row) => row[name] !== null && row[name] !== undefined && !check(row[name]));
    if (bad >= 0) throw new UnrecognisedResultError(shape, sqlText, `row ${bad + 1} has ${name} = ${JSON.stringify(result.rows[bad]![name])}, not a ${type}`);
  }
  return result.rows;
}

/** A text column's value; null and absent as "". */
export const textOf = (row: Record<string, unknown>, column: string): string => {
  const value = row[column];
  return typeof value === "string" ? value : value === null || value === undefined ? "" : String(value);
};

/** A SHOW flag ('true'/'false') or an ACCOUNT_USAGE BOOLEAN. */
export const flagOf = (row: Record<string, unknown>, column: string): boolean => {
  const value = row[column];
  return value === true || (typeof value === "string" && value.toLowerCase() === "true");
};
