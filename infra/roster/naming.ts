// The naming contract of DESIGN.md: every name the tool generates comes from here.

export const DEVELOPER_NAME = /^[a-z][a-z0-9]*$/;
export const DOMAIN_NAME = /^[a-z][a-z0-9_]*$/;
export const SERVICE_ACCOUNT_NAME = /^[a-z][a-z0-9_]*$/;
export const POSTGRES_LOGIN = /^[a-z][a-z0-9_]*$/;
export const SNOWFLAKE_USER = /^[A-Za-z][A-Za-z0-9_.@-]*$/;

/** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes; a truncated name silently merges two. */
export const POSTGRES_NAME_LIMIT = 63;
/** Snowflake identifiers, user names included, are at most 255 characters. */
export const SNOWFLAKE_NAME_LIMIT = 255;

/** Words that would shadow a system schema, role or prefix if used as a developer or service-account name. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "prod", "ci", "dev", "public", "pg", "information", "information_schema", "snowflake", "sys",
  "postgres", "admin", "root", "all", "none", "user", "current", "session", "default",
  "accountadmin", "sysadmin", "securityadmin", "useradmin", "orgadmin",
]);

/** PostgreSQL refuses to create roles whose name starts with this (its predefined roles live there). */
export const POSTGRES_RESERVED_PREFIX = "pg_";

export const PROD_WRITER = "prod_writer";
export const PROD_READER = "prod_reader";
export const CI_BUILDER = "ci_builder";
export const CI_SCHEMA_PREFIX = "ci_";
export const PROD_SCHEMA_PREFIX = "prod_";

export const prodSchemaName = (domain: string): string => `${PROD_SCHEMA_PREFIX}${domain}`;
export const developerSchemaName = (developer: string, domain: string): string => `${developer}_${domain}`;
export const developerRoleName = (developer: string): string => `dev_${developer}`;
export const restrictedReaderRoleName = (domain: string): string => `prod_${domain}_reader`;
export const ciSchemaName = (run: string, domain: string): string => `${CI_SCHEMA_PREFIX}${run}_${domain}`;
export const isProdSchemaName = (schema: string): boolean => schema.startsWith(PROD_SCHEMA_PREFIX);
/** The SQL LIKE pattern (default escape \) of every name that starts with `prefix`: its \, % and _ match only themselves. */
export const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Snowflake resolves unquoted identifiers to upper case, so every Snowflake name is the upper-cased contract name. */
export const snowflakeName = (name: string): string => name.toUpperCase();
