import { beforeAll, describe, expect, it } from "vitest";
import { declareResources, type DeclaredResource } from "../../infra/platforms/declare";
import { RULES, type Rule } from "../../policy/facts";
import { POSTGRES_TYPES as PG } from "../../policy/postgres";
import { SF_TYPES as SF } from "../../policy/snowflake";
import { shippedBoundary, shippedSettings } from "../support/shipped";
import { reportsFor, type Report, type Written } from "./harness";

// Hand-written resources that break a deny rule, each added to the shipped stack beside the violation the pack must
// report: which resource, which rule, and what it does. One case per rule and per way of writing the grant.

let shipped: DeclaredResource[];
beforeAll(async () => {
  shipped = declareResources(shippedBoundary(), shippedSettings());
});

interface Expected {
  policy: string;
  /** The resource the message names (type and logical name); the first added resource when left out. */
  on?: Pick<Written, "type" | "name">;
  rule: Rule;
  says: string;
}

interface Case {
  title: string;
  add: Written[];
  expect: Expected[];
}

const D1 = "prod-write-only-by-prod-writer";
const D1_STACK = "prod-writers-read-back-from-stack";
const D2 = "prod-writer-granted-only-to-service-accounts";
const D2_STACK = "prod-writer-held-only-by-prod-service-accounts";
const D3 = "no-public-on-prod";
const D6 = "prod-schemas-protected";
const D7_MANAGED = "prod-schemas-managed-access";
const D7_PASSWORD = "service-users-without-password";
const D7_KEYS = "service-users-key-pair-only";

const pgGrant = (name: string, props: Record<string, unknown>): Written => ({ type: PG.grant, name, props: { database: "analytics", ...props } });
const sfGrant = (name: string, props: Record<string, unknown>): Written => ({ type: SF.grantPrivileges, name, props });
const sfOwnership = (name: string, props: Record<string, unknown>): Written => ({ type: SF.grantOwnership, name, props });
const PROD_SALES = '"ANALYTICS"."PROD_SALES"';

const postgresWrites: Case[] = [
  {
    title: "CREATE on a prod schema",
    add: [pgGrant("dev_alice-create", { objectType: "schema", schema: "prod_sales", role: "dev_alice", privileges: ["USAGE", "CREATE"] })],
    expect: [
      { policy: D1, rule: RULES.D1, says: "it grants CREATE on schema prod_sales to dev_alice" },
      { policy: D1_STACK, rule: RULES.D1, says: "read back with every grant, ownership and membership in the stack, it lets alice write prod_sales, and only a prod service account holding prod_writer directly may" },
    ],
  },
  {
    title: "ALL on a prod schema",
    add: [pgGrant("ci-all", { objectType: "schema", schema: "prod_marketing", role: "ci_builder", privileges: ["ALL"] })],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants ALL on schema prod_marketing to ci_builder" }],
  },
  {
    title: "INSERT on all tables of a prod schema",
    add: [pgGrant("prod_sales/dev_alice/insert", { objectType: "table", schema: "prod_sales", objects: [], role: "dev_alice", privileges: ["INSERT"] })],
    expect: [
      { policy: D1, rule: RULES.D1, says: "it grants INSERT on all tables in schema prod_sales to dev_alice" },
      { policy: D1_STACK, rule: RULES.D1, says: "read back with every grant, ownership and membership in the stack, it lets alice write prod_sales, and only a prod service account holding prod_writer directly may" },
    ],
  },
  {
    title: "UPDATE and DELETE on one table of a prod schema",
    add: [pgGrant("orders-fixes", { objectType: "table", schema: "prod_sales", objects: ["orders"], role: "prod_reader", privileges: ["SELECT", "UPDATE", "DELETE"] })],
    expect: [
      { policy: D1, rule: RULES.D1, says: "it grants UPDATE, DELETE on tables orders in schema prod_sales to prod_reader" },
      { policy: D1_STACK, rule: RULES.D1, says: "read back with every grant, ownership and membership in the stack, it lets alice write prod_sales; bob write prod_sales; carol write prod_sales; dave_k write prod_sales; erin write prod_sales; svc_ci write prod_sales, and only a prod service account holding prod_writer directly may" },
    ],
  },
  {
    title: "TRUNCATE and TRIGGER on tables, privileges in lower case",
    add: [pgGrant("bob-truncate", { objectType: "table", schema: "prod_sales", objects: [], role: "dev_bob", privileges: ["truncate", "trigger"] })],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants TRUNCATE, TRIGGER on all tables in schema prod_sales to dev_bob" }],
  },
  {
    title: "ALL on the tables of a restricted prod schema",
    add: [pgGrant("finance-all", { objectType: "table", schema: "prod_finance", objects: [], role: "prod_finance_reader", privileges: ["ALL"] })],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants ALL on all tables in schema prod_finance to prod_finance_reader" }],
  },
  {
    title: "USAGE on the sequences of a prod schema (nextval advances them)",
    add: [pgGrant("alice-sequences", { objectType: "sequence", schema: "prod_sales", objects: [], role: "dev_alice", privileges: ["USAGE"] })],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants USAGE on all sequences in schema prod_sales to dev_alice" }],
  },
  {
    title: "EXECUTE on one function of a prod schema",
    add: [pgGrant("alice-refresh", { objectType: "function", schema: "prod_sales", objects: ["refresh_orders(integer)"], role: "dev_alice", privileges: ["EXECUTE"] })],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants EXECUTE on functions refresh_orders(integer) in schema prod_sales to dev_alice" }],
  },
  {
    title: "ALL on the procedures of a prod schema",
    add: [pgGrant("ci-procedures", { objectType: "procedure", schema: "prod_sales", objects: [], role: "ci_builder", privileges: ["ALL"] })],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants ALL on all procedures in schema prod_sales to ci_builder" }],
  },
  {
    title: "UPDATE on one column",
    add: [pgGrant("amount-fix", { objectType: "column", schema: "prod_sales", objects: ["orders"], columns: ["amount"], role: "dev_erin", privileges: ["UPDATE"] })],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants UPDATE on columns amount of orders in schema prod_sales to dev_erin" }],
  },
  {
    title: "read WITH GRANT OPTION",
    add: [pgGrant("reader-regrants", { objectType: "table", schema: "prod_sales", objects: [], role: "prod_reader", privileges: ["SELECT"], withGrantOption: true })],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants SELECT on all tables in schema prod_sales to prod_reader WITH GRANT OPTION, so prod_reader can hand them to anyone" }],
  },
  {
    title: "default privileges in a prod schema",
    add: [{ type: PG.defaultPrivileges, name: "alice-future-insert", props: { database: "analytics", schema: "prod_sales", objectType: "table", owner: "prod_writer", role: "dev_alice", privileges: ["INSERT"] } }],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants INSERT on tables prod_writer creates in prod schema prod_sales from now on to dev_alice by default privileges" }],
  },
  {
    title: "database-wide default privileges for what prod_writer creates",
    add: [{ type: PG.defaultPrivileges, name: "ci-future-update", props: { database: "analytics", objectType: "table", owner: "prod_writer", role: "ci_builder", privileges: ["UPDATE"] } }],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants UPDATE on tables prod_writer creates in any schema from now on (prod_ ones included) to ci_builder by default privileges" }],
  },
  {
    title: "default privileges on future schemas",
    add: [{ type: PG.defaultPrivileges, name: "alice-future-schemas", props: { database: "analytics", objectType: "schema", owner: "provisioner", role: "dev_alice", privileges: ["CREATE"] } }],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants CREATE on schemas provisioner creates from now on (prod_ ones included) to dev_alice by default privileges" }],
  },
  {
    title: "a prod schema owned by a developer",
    add: [{ type: PG.schema, name: "prod_payments", protect: true, props: { name: "prod_payments", database: "analytics", owner: "dev_alice" } }],
    expect: [
      { policy: D1, rule: RULES.D1, says: "it makes dev_alice the owner of prod schema prod_payments, and an owner can create, alter, drop and grant anything in it" },
      { policy: D1_STACK, rule: RULES.D1, says: "read back with every grant, ownership and membership in the stack, it lets alice write prod_payments, and only a prod service account holding prod_writer directly may" },
    ],
  },
  {
    title: "CREATE through the schema's own policies",
    add: [{ type: PG.schema, name: "prod_sales_v2", protect: true, props: { name: "prod_sales_v2", database: "analytics", policies: [{ role: "dev_bob", create: true, usage: true }] } }],
    expect: [{ policy: D1, rule: RULES.D1, says: "its policies give dev_bob CREATE on prod schema prod_sales_v2" }],
  },
  {
    title: "a superuser",
    add: [{ type: PG.role, name: "ops", props: { name: "ops", login: true, superuser: true } }],
    expect: [{ policy: D1, rule: RULES.D1, says: "it makes ops a superuser, and a superuser writes everywhere, prod schemas included" }],
  },
  {
    title: "pg_write_all_data through a role's memberships",
    add: [{ type: PG.role, name: "loader", props: { name: "loader", login: true, roles: ["pg_write_all_data"] } }],
    expect: [{ policy: D1, rule: RULES.D1, says: "it makes loader a member of pg_write_all_data, which writes every table, prod schemas included" }],
  },
  {
    title: "pg_write_all_data through GrantRole",
    add: [{ type: PG.grantRole, name: "dave-writes-all", props: { role: "dave_k", grantRole: "pg_write_all_data" } }],
    expect: [{ policy: D1, rule: RULES.D1, says: "it makes dave_k a member of pg_write_all_data, which writes every table, prod schemas included" }],
  },
];

const snowflakeWrites: Case[] = [
  {
    title: "CREATE TABLE on a prod schema",
    add: [sfGrant("alice-create-table", { accountRoleName: '"DEV_ALICE"', privileges: ["CREATE TABLE"], onSchema: { schemaName: PROD_SALES } })],
    expect: [
      { policy: D1, rule: RULES.D1, says: `it grants CREATE TABLE on schema ${PROD_SALES} to role DEV_ALICE` },
      { policy: D1_STACK, rule: RULES.D1, says: "read back with every grant, ownership and membership in the stack, it lets ALICE write ANALYTICS.PROD_SALES, and only a prod service account holding PROD_WRITER directly may" },
    ],
  },
  {
    title: "MODIFY on a prod schema",
    add: [sfGrant("reader-modify", { accountRoleName: '"PROD_READER"', privileges: ["MODIFY"], onSchema: { schemaName: PROD_SALES } })],
    expect: [{ policy: D1, rule: RULES.D1, says: `it grants MODIFY on schema ${PROD_SALES} to role PROD_READER` }],
  },
  {
    title: "all privileges on a prod schema",
    add: [sfGrant("ci-everything", { accountRoleName: '"CI_BUILDER"', allPrivileges: true, onSchema: { schemaName: '"ANALYTICS"."PROD_MARKETING"' } })],
    expect: [{ policy: D1, rule: RULES.D1, says: 'it grants ALL PRIVILEGES on schema "ANALYTICS"."PROD_MARKETING" to role CI_BUILDER' }],
  },
  {
    title: "CREATE TABLE on future schemas of the database",
    add: [sfGrant("alice-future-schemas", { accountRoleName: '"DEV_ALICE"', privileges: ["CREATE TABLE"], onSchema: { futureSchemasInDatabase: '"ANALYTICS"' } })],
    expect: [{ policy: D1, rule: RULES.D1, says: 'it grants CREATE TABLE on future schemas in database "ANALYTICS" (prod ones included) to role DEV_ALICE' }],
  },
  {
    title: "INSERT on one table",
    add: [sfGrant("alice-orders", { accountRoleName: '"DEV_ALICE"', privileges: ["INSERT"], onSchemaObject: { objectType: "TABLE", objectName: `${PROD_SALES}."ORDERS"` } })],
    expect: [
      { policy: D1, rule: RULES.D1, says: `it grants INSERT on TABLE ${PROD_SALES}."ORDERS" to role DEV_ALICE` },
      { policy: D1_STACK, rule: RULES.D1, says: "read back with every grant, ownership and membership in the stack, it lets ALICE write ANALYTICS.PROD_SALES, and only a prod service account holding PROD_WRITER directly may" },
    ],
  },
  {
    title: "UPDATE and DELETE on all tables",
    add: [sfGrant("bob-all-tables", { accountRoleName: '"DEV_BOB"', privileges: ["SELECT", "UPDATE", "DELETE"], onSchemaObject: { all: { objectTypePlural: "TABLES", inSchema: PROD_SALES } } })],
    expect: [{ policy: D1, rule: RULES.D1, says: `it grants UPDATE, DELETE on all TABLES in schema ${PROD_SALES} to role DEV_BOB` }],
  },
  {
    title: "TRUNCATE on future tables",
    add: [sfGrant("finance-truncate", { accountRoleName: '"PROD_FINANCE_READER"', privileges: ["TRUNCATE"], onSchemaObject: { future: { objectTypePlural: "TABLES", inSchema: '"ANALYTICS"."PROD_FINANCE"' } } })],
    expect: [{ policy: D1, rule: RULES.D1, says: 'it grants TRUNCATE on future TABLES in schema "ANALYTICS"."PROD_FINANCE" to role PROD_FINANCE_READER' }],
  },
  {
    title: "a database-level future grant, which reaches prod schemas",
    add: [sfGrant("ci-future-insert", { accountRoleName: '"CI_BUILDER"', privileges: ["INSERT"], onSchemaObject: { future: { objectTypePlural: "TABLES", inDatabase: '"ANALYTICS"' } } })],
    expect: [{ policy: D1, rule: RULES.D1, says: 'it grants INSERT on future TABLES in database "ANALYTICS" (prod schemas included) to role CI_BUILDER' }],
  },
  {
    title: "USAGE on prod procedures, which run with their owner's rights",
    add: [sfGrant("alice-procedures", { accountRoleName: '"DEV_ALICE"', privileges: ["USAGE"], onSchemaObject: { all: { objectTypePlural: "PROCEDURES", inSchema: PROD_SALES } } })],
    expect: [{ policy: D1, rule: RULES.D1, says: `it grants USAGE on all PROCEDURES in schema ${PROD_SALES} to role DEV_ALICE` }],
  },
  {
    title: "MANAGE GRANTS on the account",
    add: [sfGrant("alice-manage-grants", { accountRoleName: '"DEV_ALICE"', privileges: ["MANAGE GRANTS"], onAccount: true })],
    expect: [{ policy: D1, rule: RULES.D1, says: "it grants MANAGE GRANTS on the account to role DEV_ALICE, which lets it grant itself write on every prod schema" }],
  },
  {
    title: "read WITH GRANT OPTION",
    add: [sfGrant("reader-regrants", { accountRoleName: '"PROD_READER"', privileges: ["SELECT"], withGrantOption: true, onSchemaObject: { all: { objectTypePlural: "TABLES", inSchema: PROD_SALES } } })],
    expect: [{ policy: D1, rule: RULES.D1, says: `it grants SELECT on all TABLES in schema ${PROD_SALES} to role PROD_READER WITH GRANT OPTION, so role PROD_READER can hand them to anyone` }],
  },
  {
    title: "INSERT to a database role",
    add: [{ type: SF.grantPrivilegesToDatabaseRole, name: "loader-insert", props: { databaseRoleName: '"ANALYTICS"."LOADER"', privileges: ["INSERT"], onSchemaObject: { all: { objectTypePlural: "TABLES", inSchema: PROD_SALES } } } }],
    expect: [{ policy: D1, rule: RULES.D1, says: `it grants INSERT on all TABLES in schema ${PROD_SALES} to database role "ANALYTICS"."LOADER"` }],
  },
  {
    title: "ownership of a prod schema to a developer",
    add: [sfOwnership("prod_sales-to-alice", { accountRoleName: '"DEV_ALICE"', on: { objectType: "SCHEMA", objectName: PROD_SALES } })],
    expect: [
      { policy: D1, rule: RULES.D1, says: `it makes role DEV_ALICE the owner of prod schema ${PROD_SALES}, and an owner can drop it and everything in it` },
      { policy: D1_STACK, rule: RULES.D1, says: "read back with every grant, ownership and membership in the stack, it lets ALICE write ANALYTICS.PROD_SALES, and only a prod service account holding PROD_WRITER directly may" },
    ],
  },
  {
    title: "ownership of a prod schema even to PROD_WRITER (managed access needs the provisioner as owner)",
    add: [sfOwnership("prod_sales-to-writer", { accountRoleName: '"PROD_WRITER"', on: { objectType: "SCHEMA", objectName: PROD_SALES } })],
    expect: [{ policy: D1, rule: RULES.D1, says: `it makes role PROD_WRITER the owner of prod schema ${PROD_SALES}, and an owner can drop it and everything in it` }],
  },
  {
    title: "ownership of one prod table",
    add: [sfOwnership("orders-to-bob", { accountRoleName: '"DEV_BOB"', on: { objectType: "TABLE", objectName: `${PROD_SALES}."ORDERS"` } })],
    expect: [{ policy: D1, rule: RULES.D1, says: `it makes role DEV_BOB the owner of TABLE ${PROD_SALES}."ORDERS", and an owner can change, drop and grant them` }],
  },
  {
    title: "ownership of all tables in a prod schema",
    add: [sfOwnership("tables-to-ci", { accountRoleName: '"CI_BUILDER"', on: { all: { objectTypePlural: "TABLES", inSchema: PROD_SALES } } })],
    expect: [{ policy: D1, rule: RULES.D1, says: `it makes role CI_BUILDER the owner of all TABLES in schema ${PROD_SALES}, and an owner can change, drop and grant them` }],
  },
  {
    title: "ownership of future tables in a prod schema",
    add: [sfOwnership("future-tables-to-alice", { accountRoleName: '"DEV_ALICE"', on: { future: { objectTypePlural: "TABLES", inSchema: PROD_SALES } } })],
    expect: [{ policy: D1, rule: RULES.D1, says: `it makes role DEV_ALICE the owner of future TABLES in schema ${PROD_SALES}, and an owner can change, drop and grant them` }],
  },
  {
    title: "ownership of the database",
    add: [sfOwnership("database-to-ci", { accountRoleName: '"CI_BUILDER"', on: { objectType: "DATABASE", objectName: '"ANALYTICS"' } })],
    expect: [{ policy: D1, rule: RULES.D1, says: 'it makes role CI_BUILDER the owner of database "ANALYTICS" (its prod schemas included), and an owner can drop it and everything in it' }],
  },
];

const writerHolders: Case[] = [
  {
    title: "PostgreSQL: prod_writer in a group role's memberships",
    add: [{ type: PG.role, name: "analysts", props: { name: "analysts", login: false, roles: ["prod_writer"] } }],
    expect: [{ policy: D2, rule: RULES.D2, says: "it makes group role analysts a member of prod_writer, so every member of analysts would write prod schemas" }],
  },
  {
    title: "PostgreSQL: a developer's second login holding prod_writer",
    add: [{ type: PG.role, name: "alice_admin", props: { name: "alice_admin", login: true, roles: ["dev_alice", "prod_writer"] } }],
    expect: [
      { policy: D2, rule: RULES.D2, says: "login alice_admin holds prod_writer but is a developer or CI account (it holds dev_alice)" },
      { policy: D2_STACK, rule: RULES.D2, says: "login alice_admin holds prod_writer (alice_admin → prod_writer), but it is also a developer or CI account (it holds dev_alice)" },
    ],
  },
  {
    title: "PostgreSQL: CREATEROLE, which can grant prod_writer",
    add: [{ type: PG.role, name: "team_lead", props: { name: "team_lead", login: true, createRole: true } }],
    expect: [{ policy: D2, rule: RULES.D2, says: "it gives team_lead CREATEROLE, which lets it grant prod_writer to anyone (PostgreSQL before 16)" }],
  },
  {
    title: "PostgreSQL: prod_writer WITH ADMIN OPTION",
    add: [{ type: PG.grantRole, name: "svc_prod-admin", props: { role: "svc_prod", grantRole: "prod_writer", withAdminOption: true } }],
    expect: [{ policy: D2, rule: RULES.D2, says: "it grants prod_writer to svc_prod WITH ADMIN OPTION, so svc_prod can grant it to anyone" }],
  },
  {
    title: "PostgreSQL: prod_writer to a developer role by GrantRole",
    add: [{ type: PG.grantRole, name: "bob-writes", props: { role: "dev_bob", grantRole: "prod_writer" } }],
    expect: [
      { policy: D2, rule: RULES.D2, says: "it grants prod_writer to dev_bob, a developer's, CI's or everyone's role" },
      { policy: D2_STACK, rule: RULES.D2, says: "login bob holds prod_writer (bob → dev_bob → prod_writer), but it reaches prod_writer through dev_bob, not directly; it is also a developer or CI account (it holds dev_bob)" },
    ],
  },
  {
    title: "PostgreSQL: a developer reaching prod_writer through a chain of group roles",
    add: [
      { type: PG.role, name: "etl_helpers", props: { name: "etl_helpers", login: false, roles: [] } },
      { type: PG.grantRole, name: "helpers-write", props: { role: "etl_helpers", grantRole: "prod_writer" } },
      { type: PG.grantRole, name: "erin-helps", props: { role: "erin", grantRole: "etl_helpers" } },
    ],
    expect: [
      { policy: D2_STACK, on: { type: PG.grantRole, name: "helpers-write" }, rule: RULES.D2, says: "it grants prod_writer to group role etl_helpers, so every member of etl_helpers would write prod schemas" },
      { policy: D2_STACK, on: { type: PG.grantRole, name: "helpers-write" }, rule: RULES.D2, says: "login erin holds prod_writer (erin → etl_helpers → prod_writer), but it reaches prod_writer through etl_helpers, not directly; it is also a developer or CI account (it holds dev_erin)" },
      { policy: D1_STACK, on: { type: PG.grantRole, name: "helpers-write" }, rule: RULES.D1, says: "read back with every grant, ownership and membership in the stack, it lets erin write prod_finance, prod_marketing, prod_product, prod_sales, and only a prod service account holding prod_writer directly may" },
    ],
  },
  {
    title: "PostgreSQL: prod_writer to a role the stack does not declare",
    add: [{ type: PG.grantRole, name: "legacy-loader", props: { role: "legacy_loader", grantRole: "prod_writer" } }],
    expect: [{ policy: D2_STACK, rule: RULES.D2, says: "role legacy_loader holds prod_writer (legacy_loader → prod_writer), but legacy_loader is not a login role declared in this stack" }],
  },
  {
    title: "Snowflake: PROD_WRITER to a developer's role",
    add: [{ type: SF.grantAccountRole, name: "dev_alice/prod_writer", props: { roleName: '"PROD_WRITER"', parentRoleName: '"DEV_ALICE"' } }],
    expect: [
      { policy: D2, rule: RULES.D2, says: "it grants PROD_WRITER to role DEV_ALICE, so every holder of DEV_ALICE writes prod schemas" },
      { policy: D1_STACK, rule: RULES.D1, says: "read back with every grant, ownership and membership in the stack, it lets ALICE write ANALYTICS.PROD_FINANCE, ANALYTICS.PROD_MARKETING, ANALYTICS.PROD_PRODUCT, ANALYTICS.PROD_SALES, and only a prod service account holding PROD_WRITER directly may" },
      { policy: D2_STACK, rule: RULES.D2, says: "user ALICE holds PROD_WRITER (ALICE → DEV_ALICE → PROD_WRITER), but it reaches PROD_WRITER through DEV_ALICE, not directly; it is not a snowflake.ServiceUser declared in this stack (a developer's existing user, or unknown); it is also a developer or CI account (it holds DEV_ALICE)" },
    ],
  },
  {
    title: "Snowflake: ownership of PROD_WRITER",
    add: [sfOwnership("writer-to-bob", { accountRoleName: '"DEV_BOB"', on: { objectType: "ROLE", objectName: '"PROD_WRITER"' } })],
    expect: [
      { policy: D2, rule: RULES.D2, says: "it makes DEV_BOB the owner of PROD_WRITER, and a role's owner can grant it to anyone, itself first" },
      { policy: D2_STACK, rule: RULES.D2, says: "user BOB holds PROD_WRITER (BOB → DEV_BOB → PROD_WRITER), but it reaches PROD_WRITER through DEV_BOB, not directly; it is not a snowflake.ServiceUser declared in this stack (a developer's existing user, or unknown); it is also a developer or CI account (it holds DEV_BOB)" },
    ],
  },
  {
    title: "Snowflake: a person starting sessions as PROD_WRITER",
    add: [{ type: SF.user, name: "reporting", props: { name: "REPORTING", defaultRole: "PROD_WRITER" } }],
    expect: [{ policy: D2, rule: RULES.D2, says: "user REPORTING is a person (TYPE=PERSON) and starts its sessions as PROD_WRITER" }],
  },
  {
    title: "Snowflake: PROD_WRITER to a developer's existing user",
    add: [{ type: SF.grantAccountRole, name: "alice/prod_writer", props: { roleName: '"PROD_WRITER"', userName: '"ALICE"' } }],
    expect: [
      { policy: D2_STACK, rule: RULES.D2, says: "user ALICE holds PROD_WRITER (ALICE → PROD_WRITER), but it is not a snowflake.ServiceUser declared in this stack (a developer's existing user, or unknown); it is also a developer or CI account (it holds DEV_ALICE)" },
      { policy: D1_STACK, rule: RULES.D1, says: "read back with every grant, ownership and membership in the stack, it lets ALICE write ANALYTICS.PROD_FINANCE, ANALYTICS.PROD_MARKETING, ANALYTICS.PROD_PRODUCT, ANALYTICS.PROD_SALES, and only a prod service account holding PROD_WRITER directly may" },
    ],
  },
  {
    title: "Snowflake: PROD_WRITER to a person user",
    add: [
      { type: SF.user, name: "bi-bot", props: { name: "BI_BOT" } },
      { type: SF.grantAccountRole, name: "bi-bot/prod_writer", props: { roleName: '"PROD_WRITER"', userName: '"BI_BOT"' } },
    ],
    expect: [{ policy: D2_STACK, on: { type: SF.grantAccountRole, name: "bi-bot/prod_writer" }, rule: RULES.D2, says: "user BI_BOT holds PROD_WRITER (BI_BOT → PROD_WRITER), but it is a person (snowflake.User, TYPE=PERSON), not a TYPE=SERVICE user" }],
  },
  {
    title: "Snowflake: a developer given the admin role, which PROD_WRITER rolls up to",
    add: [{ type: SF.grantAccountRole, name: "alice/warehouse_provisioner", props: { roleName: '"WAREHOUSE_PROVISIONER"', userName: '"ALICE"' } }],
    expect: [{ policy: D2_STACK, rule: RULES.D2, says: "user ALICE holds PROD_WRITER (ALICE → WAREHOUSE_PROVISIONER → PROD_WRITER), but it reaches PROD_WRITER through WAREHOUSE_PROVISIONER, not directly; it is not a snowflake.ServiceUser declared in this stack (a developer's existing user, or unknown); it is also a developer or CI account (it holds DEV_ALICE, CI_BUILDER, DEV_BOB, DEV_CAROL, DEV_DAVE, DEV_ERIN)" }],
  },
  {
    title: "Snowflake: the CI service user given PROD_WRITER",
    add: [{ type: SF.grantAccountRole, name: "svc_ci/prod_writer", props: { roleName: '"PROD_WRITER"', userName: '"SVC_CI"' } }],
    expect: [{ policy: D2_STACK, rule: RULES.D2, says: "user SVC_CI holds PROD_WRITER (SVC_CI → PROD_WRITER), but it is also a developer or CI account (it holds CI_BUILDER)" }],
  },
  {
    title: "Snowflake: a legacy service user holding PROD_WRITER",
    add: [
      { type: SF.legacyServiceUser, name: "old-loader", props: { name: "OLD_LOADER" } },
      { type: SF.grantAccountRole, name: "old-loader/prod_writer", props: { roleName: '"PROD_WRITER"', userName: '"OLD_LOADER"' } },
    ],
    expect: [{ policy: D2_STACK, on: { type: SF.grantAccountRole, name: "old-loader/prod_writer" }, rule: RULES.D2, says: "user OLD_LOADER holds PROD_WRITER (OLD_LOADER → PROD_WRITER), but it is a legacy service user (TYPE=LEGACY_SERVICE), which may log in with a password" }],
  },
];

const publicGrants: Case[] = [
  {
    title: "PostgreSQL: USAGE on a prod schema to PUBLIC",
    add: [pgGrant("public-usage", { objectType: "schema", schema: "prod_sales", role: "public", privileges: ["USAGE"] })],
    expect: [{ policy: D3, rule: RULES.D3, says: "it grants USAGE on schema prod_sales to PUBLIC, that is to every role" }],
  },
  {
    title: "PostgreSQL: SELECT on restricted prod tables to PUBLIC, spelled in upper case",
    add: [pgGrant("public-select", { objectType: "table", schema: "prod_finance", objects: [], role: "PUBLIC", privileges: ["SELECT"] })],
    expect: [{ policy: D3, rule: RULES.D3, says: "it grants SELECT on all tables in schema prod_finance to PUBLIC, that is to every role" }],
  },
  {
    title: "PostgreSQL: default privileges to PUBLIC",
    add: [{ type: PG.defaultPrivileges, name: "public-future", props: { database: "analytics", schema: "prod_sales", objectType: "table", owner: "prod_writer", role: "public", privileges: ["SELECT"] } }],
    expect: [{ policy: D3, rule: RULES.D3, says: "it grants SELECT on tables prod_writer creates in prod schema prod_sales from now on to PUBLIC by default privileges" }],
  },
  {
    title: "PostgreSQL: PUBLIC in a prod schema's policies",
    add: [{ type: PG.schema, name: "prod_open", protect: true, props: { name: "prod_open", database: "analytics", policies: [{ role: "public", usage: true }] } }],
    expect: [{ policy: D3, rule: RULES.D3, says: "its policies give PUBLIC USAGE on prod schema prod_open" }],
  },
  {
    title: "Snowflake: USAGE on a prod schema to PUBLIC",
    add: [sfGrant("public-usage", { accountRoleName: '"PUBLIC"', privileges: ["USAGE"], onSchema: { schemaName: PROD_SALES } })],
    expect: [{ policy: D3, rule: RULES.D3, says: `it grants USAGE on schema ${PROD_SALES} to PUBLIC, which every user and role holds` }],
  },
  {
    title: "Snowflake: SELECT on future restricted tables to PUBLIC",
    add: [sfGrant("public-future", { accountRoleName: "PUBLIC", privileges: ["SELECT"], onSchemaObject: { future: { objectTypePlural: "TABLES", inSchema: '"ANALYTICS"."PROD_FINANCE"' } } })],
    expect: [{ policy: D3, rule: RULES.D3, says: 'it grants SELECT on future TABLES in schema "ANALYTICS"."PROD_FINANCE" to PUBLIC, which every user and role holds' }],
  },
  {
    title: "Snowflake: a prod reader role granted to PUBLIC",
    add: [{ type: SF.grantAccountRole, name: "public/prod_reader", props: { roleName: '"PROD_READER"', parentRoleName: '"PUBLIC"' } }],
    expect: [{ policy: D3, rule: RULES.D3, says: "it grants role PROD_READER to PUBLIC, so every user holds what PROD_READER holds on prod schemas" }],
  },
];

const schemasAndUsers: Case[] = [
  {
    title: "PostgreSQL: a prod schema without protect",
    add: [{ type: PG.schema, name: "prod_archive", props: { name: "prod_archive", database: "analytics" } }],
    expect: [{ policy: D6, rule: RULES.D6, says: "prod schema prod_archive is not protected, so pulumi up would drop it (and its data) once the resource leaves the program" }],
  },
  {
    title: "Snowflake: a prod schema without protect",
    add: [{ type: SF.schema, name: "prod_archive", props: { name: "PROD_ARCHIVE", database: "ANALYTICS", withManagedAccess: "true" } }],
    expect: [{ policy: D6, rule: RULES.D6, says: "prod schema PROD_ARCHIVE is not protected, so pulumi up would drop it (and its data) once the resource leaves the program" }],
  },
  {
    title: "Snowflake: a prod schema with managed access off",
    add: [{ type: SF.schema, name: "prod_archive", protect: true, props: { name: "PROD_ARCHIVE", database: "ANALYTICS", withManagedAccess: "false" } }],
    expect: [{ policy: D7_MANAGED, rule: RULES.D7managed, says: 'prod schema PROD_ARCHIVE is not managed access (withManagedAccess is "false"), so the owner of each object in it could grant on it' }],
  },
  {
    title: "Snowflake: a prod schema that leaves managed access unset",
    add: [{ type: SF.schema, name: "prod_archive", protect: true, props: { name: "PROD_ARCHIVE", database: "ANALYTICS" } }],
    expect: [{ policy: D7_MANAGED, rule: RULES.D7managed, says: "prod schema PROD_ARCHIVE is not managed access (withManagedAccess is null), so the owner of each object in it could grant on it" }],
  },
  {
    title: "Snowflake: a legacy service user with a password",
    add: [{ type: SF.legacyServiceUser, name: "old-etl", props: { name: "OLD_ETL", password: "hunter2" } }],
    expect: [{ policy: D7_PASSWORD, rule: RULES.D7keys, says: "legacy service user OLD_ETL has a password" }],
  },
  {
    title: "Snowflake: a service user without the key-pair-only authentication policy",
    add: [{ type: SF.serviceUser, name: "svc_backfill", props: { name: "SVC_BACKFILL", rsaPublicKey: "MIIBIjANBg..." } }],
    expect: [{ policy: D7_KEYS, rule: RULES.D7keys, says: "service user SVC_BACKFILL has no authentication policy attached, so it could log in by other means than its key pair (OAuth, a programmatic access token)" }],
  },
  {
    title: "Snowflake: a service user whose authentication policy also allows passwords",
    add: [
      { type: SF.serviceUser, name: "svc_backfill", props: { name: "SVC_BACKFILL" } },
      { type: SF.authenticationPolicy, name: "lenient", props: { database: "ANALYTICS", schema: "GOVERNANCE", name: "LENIENT", authenticationMethods: ["PASSWORD", "KEYPAIR"] } },
      { type: SF.userAuthenticationPolicy, name: "svc_backfill", props: { userName: '"SVC_BACKFILL"', authenticationPolicyName: '"ANALYTICS"."GOVERNANCE"."LENIENT"' } },
    ],
    expect: [{ policy: D7_KEYS, rule: RULES.D7keys, says: "service user SVC_BACKFILL has an authentication policy allowing PASSWORD, KEYPAIR, so it could log in by other means than its key pair (OAuth, a programmatic access token)" }],
  },
];

const D5 = "restricted-copies-stay-with-readers";
const CAROL_FINANCE = '"ANALYTICS"."CAROL_FINANCE"';

const restrictedCopies: Case[] = [
  {
    title: "PostgreSQL: carol's copy of finance owned by her role (dbt's grants and a post-hook could share it)",
    add: [{ type: PG.schema, name: "carol_finance_owned", props: { name: "carol_finance", database: "analytics", owner: "dev_carol" } }],
    expect: [{ policy: D5, rule: RULES.D5, says: "it makes dev_carol the owner of carol_finance, a developer copy of restricted domain finance; an owner can grant USAGE on it, and so what it holds, to anyone" }],
  },
  {
    title: "PostgreSQL: USAGE on carol's copy of finance for bob's role",
    add: [pgGrant("bob-carol-finance", { objectType: "schema", schema: "carol_finance", role: "dev_bob", privileges: ["USAGE"] })],
    expect: [{ policy: D5, rule: RULES.D5, says: "it grants USAGE in carol_finance, a developer copy of restricted domain finance, to dev_bob, which is not its developer's role" }],
  },
  {
    title: "PostgreSQL: SELECT on future tables of erin's copy for PUBLIC",
    add: [{ type: PG.defaultPrivileges, name: "public-erin-finance", props: { database: "analytics", schema: "erin_finance", owner: "erin", objectType: "table", role: "public", privileges: ["SELECT"] } }],
    expect: [{ policy: D5, rule: RULES.D5, says: "it grants SELECT in erin_finance, a developer copy of restricted domain finance, to public, which is not its developer's role" }],
  },
  {
    title: "PostgreSQL: carol's role may grant USAGE on her copy onward",
    add: [pgGrant("carol-grant-option", { objectType: "schema", schema: "carol_finance", role: "dev_carol", privileges: ["USAGE", "CREATE"], withGrantOption: true })],
    expect: [{ policy: D5, rule: RULES.D5, says: "it lets dev_carol grant USAGE, CREATE in carol_finance, a developer copy of restricted domain finance, onward" }],
  },
  {
    title: "Snowflake: carol's copy of finance not managed access",
    add: [{ type: SF.schema, name: "carol_finance_open", props: { name: "CAROL_FINANCE", database: "ANALYTICS" } }],
    expect: [{ policy: D5, rule: RULES.D5, says: "CAROL_FINANCE, a developer copy of restricted domain finance, is not managed access, so the owner of each table or view in it could grant it to anyone" }],
  },
  {
    title: "Snowflake: carol's copy of finance handed to DEV_CAROL",
    add: [sfOwnership("carol_finance_owned", { accountRoleName: '"DEV_CAROL"', outboundPrivileges: "COPY", on: { objectType: "SCHEMA", objectName: CAROL_FINANCE } })],
    expect: [{ policy: D5, rule: RULES.D5, says: "it hands ownership in CAROL_FINANCE, a developer copy of restricted domain finance, to DEV_CAROL; an owner can grant it onward" }],
  },
  {
    title: "Snowflake: SELECT on all tables of carol's copy for DEV_BOB",
    add: [sfGrant("bob-carol-finance", { accountRoleName: '"DEV_BOB"', privileges: ["SELECT"], onSchemaObject: { all: { objectTypePlural: "TABLES", inSchema: CAROL_FINANCE } } })],
    expect: [{ policy: D5, rule: RULES.D5, says: "it grants SELECT in CAROL_FINANCE, a developer copy of restricted domain finance, to DEV_BOB, which is not its developer's role" }],
  },
];

/** The message for an expectation: resource, rule and what it does exactly; any fix, as long as there is one. */
const matches = (c: Case, e: Expected) => (r: Report): boolean => {
  const on = e.on ?? c.add[0]!;
  return r.policy === e.policy
    && r.message.startsWith(`${on.type} "${on.name}" breaks ${e.rule.id} (${e.rule.says}): ${e.says}. Fix: `)
    && r.message.endsWith(".");
};

describe.each([
  ["only prod_writer writes to prod schemas (D1), PostgreSQL", postgresWrites],
  ["only prod_writer writes to prod schemas (D1), Snowflake", snowflakeWrites],
  ["prod_writer is held only by prod service accounts (D2)", writerHolders],
  ["PUBLIC holds nothing on prod schemas (D3)", publicGrants],
  ["prod schemas are protected and managed access, service users use key pairs (D6, D7)", schemasAndUsers],
  ["a restricted domain's developer copies cannot be shared (D5)", restrictedCopies],
])("%s", (_, cases) => {
  it.each(cases.map((c) => [c.title, c] as const))("catches %s", async (_title, c) => {
    const reports = await reportsFor([...shipped, ...c.add]);
    for (const e of c.expect) {
      const found = reports.find(matches(c, e));
      expect(found, `expected from ${e.policy}: ${e.says}\n\ngot:\n${reports.map((r) => `${r.policy}: ${r.message}`).join("\n")}`).toBeDefined();
    }
  });
});

describe("what the pack lets through", () => {
  const allowed: [string, Written][] = [
    ["prod_writer's own write grant", pgGrant("writer-insert", { objectType: "table", schema: "prod_sales", objects: [], role: "prod_writer", privileges: ["INSERT", "UPDATE"] })],
    ["read on a prod schema for a developer role", pgGrant("alice-reads", { objectType: "schema", schema: "prod_sales", role: "dev_alice", privileges: ["USAGE"] })],
    ["write on a developer's own schema", pgGrant("alice-own", { objectType: "table", schema: "alice_sales", objects: [], role: "dev_alice", privileges: ["ALL"] })],
    ["a prod schema owned by prod_writer", { type: PG.schema, name: "prod_events", protect: true, props: { name: "prod_events", database: "analytics", owner: "prod_writer" } }],
    ["a developer copy of a restricted domain owned by the provisioner (postgresql:username)", { type: PG.schema, name: "carol_finance_again", props: { name: "carol_finance", database: "analytics", owner: "provisioner" } }],
    ["a developer's own schema owned by their role", { type: PG.schema, name: "bob_sales_again", props: { name: "bob_sales", database: "analytics", owner: "dev_bob" } }],
    ["a prod schema owned by the provisioner (postgresql:username)", { type: PG.schema, name: "prod_events", protect: true, props: { name: "prod_events", database: "analytics", owner: "provisioner" } }],
    ["Snowflake read on a prod schema", sfGrant("alice-select", { accountRoleName: '"DEV_ALICE"', privileges: ["SELECT"], onSchemaObject: { all: { objectTypePlural: "TABLES", inSchema: PROD_SALES } } })],
    ["Snowflake ownership of prod tables by PROD_WRITER", sfOwnership("tables-to-writer", { accountRoleName: '"PROD_WRITER"', on: { future: { objectTypePlural: "TABLES", inSchema: PROD_SALES } } })],
    ["a Snowflake user with a password and no prod role", { type: SF.user, name: "analyst", props: { name: "ANALYST", password: "correct horse" } }],
  ];
  it.each(allowed)("lets through %s", async (_, r) => {
    expect(await reportsFor([...shipped, r])).toEqual([]);
  });
});
