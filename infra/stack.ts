import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { CI_BUILDER, POSTGRES_RESERVED_PREFIX, PROD_READER, PROD_WRITER, snowflakeName } from "./roster/naming";

// The stack's settings (Pulumi.<stack>.yaml, namespace `warehouse-access`): where and how, never who.

export const PROJECT = "warehouse-access";

/**
 * How PostgreSQL logins authenticate; the tool never sets, stores or prints a password either way.
 * password: set outside the tool (a DBA, or the platform's secret manager); the provider leaves passwords alone when
 *           none is declared (terraform-provider-postgresql setRolePassword: "Nothing to set").
 * iam:      every login is granted `role` (AWS RDS/Aurora: rds_iam) and signs in with a short-lived token.
 */
const loginAuthentication = z.discriminatedUnion("method", [
  z.strictObject({ method: z.literal("password") }),
  z.strictObject({
    method: z.literal("iam"),
    role: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, { error: "must be a lowercase PostgreSQL role name, e.g. rds_iam" })
      .refine((role) => role !== "public" && !role.startsWith(POSTGRES_RESERVED_PREFIX) && ![PROD_WRITER, PROD_READER, CI_BUILDER].includes(role) && !/^(dev|prod)_/.test(role), {
        error: "is PUBLIC, a predefined pg_ role or a role warehouse-access manages; every login would hold it. Use the platform's IAM role, e.g. rds_iam",
      })
      .default("rds_iam"),
  }),
], { error: "must be { method: password } or { method: iam, role: rds_iam }" });

export type LoginAuthentication = z.output<typeof loginAuthentication>;

/** Roles the platform provides that every PostgreSQL login is granted, so that it can sign in (RDS: rds_iam). */
export const authenticationRoles = (settings: StackSettings): string[] =>
  settings.postgres.loginAuthentication.method === "iam" ? [settings.postgres.loginAuthentication.role] : [];

/** The provisioner's role the README's SQL creates: one of its own, so its grants and the roll-ups widen no built-in role. */
export const SNOWFLAKE_PROVISIONER_ROLE = "WAREHOUSE_PROVISIONER";
/** Snowflake's system-defined roles (docs "Overview of Access Control": system-defined roles); each is held beyond the provisioner. */
export const SNOWFLAKE_SYSTEM_ROLES: ReadonlySet<string> = new Set(["ORGADMIN", "GLOBALORGADMIN", "ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN"]);

const snowflakeIdentifier = z.string().regex(/^[A-Z][A-Z0-9_]*$/, {
  error: "must be an upper-case Snowflake identifier (letters, digits, _). Write it in UPPER CASE",
});

export const stackSettings = z.strictObject({
  roster: z.string().default("team.yaml"),
  platforms: z
    .array(z.enum(["postgres", "snowflake"], { error: "must be postgres or snowflake" }))
    .min(1, { error: "names no platform. List postgres, snowflake or both" }),
  database: z.string().regex(/^[a-z][a-z0-9_]*$/, { error: "must be a lowercase database name" }),
  postgres: z
    .strictObject({
      developerStatementTimeoutMs: z.int().positive().default(300_000),
      // dbt holds a connection per thread and one of its own (task/runnable.py before_run: "master"), so 1 starts no run.
      developerConnectionLimit: z.int().min(2, { error: "is below 2: dbt holds one connection per thread plus one of its own, so no dbt run could start. Set 2 or more (5: threads 3 and a psql)" }).default(5),
      /** The provider's login (`postgresql:username`): an admin path for `audit --live`, and who a dropped role's objects pass to. */
      provisioner: z.string().optional(),
      loginAuthentication: loginAuthentication.default({ method: "password" }),
    })
    .default({ developerStatementTimeoutMs: 300_000, developerConnectionLimit: 5, loginAuthentication: { method: "password" } }),
  snowflake: z
    .strictObject({
      warehouses: z.strictObject({ developers: snowflakeIdentifier, ci: snowflakeIdentifier, prod: snowflakeIdentifier }),
      /** The provisioner's role: it owns prod schemas, and custom roles roll up to it so it can manage their objects. */
      adminRole: snowflakeIdentifier
        .refine((role) => role !== "PUBLIC" && role !== snowflakeName(CI_BUILDER) && !/^(DEV|PROD)_/.test(role), {
          error: `is PUBLIC or a role warehouse-access manages; the roles that write roll up to it, so its holders would write prod. Use the provisioner's own role, e.g. ${SNOWFLAKE_PROVISIONER_ROLE}`,
        })
        .default(SNOWFLAKE_PROVISIONER_ROLE),
      /** Schema in `database` that holds the service users' authentication policy. */
      policySchema: snowflakeIdentifier
        .refine((schema) => !/^(PROD|CI)_/.test(schema), { error: "must not be a prod_ or ci_ schema name. Use e.g. GOVERNANCE" })
        .default("GOVERNANCE"),
    })
    .optional(),
}).check((ctx) => {
  if (ctx.value.platforms.includes("snowflake") && ctx.value.snowflake === undefined)
    ctx.issues.push({ code: "custom", path: ["snowflake"], message: "is required when platforms includes snowflake. Add warehouse-access:snowflake with warehouses", input: ctx.value });
});

export type StackSettings = z.output<typeof stackSettings>;
export type Platform = StackSettings["platforms"][number];

/** Thrown for a stack config that cannot be used; names each key and how to fix it. */
export class StackSettingsError extends Error {
  constructor(source: string, problems: readonly { key: string; message: string }[]) {
    super(problems.map((p) => `${source}: ${p.key}: ${p.message}`).join("\n"));
    this.name = "StackSettingsError";
  }
}

/** Settings from `key → value` pairs with the `warehouse-access:` prefix already removed. */
export function parseStackSettings(values: Record<string, unknown>, source: string): StackSettings {
  const parsed = stackSettings.safeParse(values);
  if (!parsed.success)
    throw new StackSettingsError(source, parsed.error.issues.map((i) => ({ key: `${PROJECT}:${i.path.map(String).join(".")}`, message: i.message })));
  return parsed.data;
}

/**
 * Settings from a stack's whole config (`namespace:key` → value): our keys, checked against the provider settings they
 * depend on. The PostgreSQL provider drops a role's objects only in the database it connects to, so an offboarding
 * would fail (or leave objects behind) unless that is the warehouse database.
 */
export function stackSettingsFromConfig(config: Record<string, unknown>, source: string): StackSettings {
  const settings = parseStackSettings(projectConfig(config), source);
  if (!settings.platforms.includes("postgres")) return settings;
  const providerDatabase = config["postgresql:database"];
  if (providerDatabase !== settings.database)
    throw new StackSettingsError(source, [{
      key: "postgresql:database",
      message: `is ${providerDatabase === undefined ? "not set" : `"${String(providerDatabase)}"`}, but the warehouse database is "${settings.database}"; the provider must connect to it to reassign a removed role's objects. Set postgresql:database: ${settings.database}`,
    }]);
  const username = config["postgresql:username"];
  return typeof username === "string" && settings.postgres.provisioner === undefined
    ? { ...settings, postgres: { ...settings.postgres, provisioner: username } }
    : settings;
}

/**
 * Settings a real `pulumi up` can deploy with: stackSettingsFromConfig's, and the Snowflake provider keys the program
 * depends on. (The diff reads past revisions with stackSettingsFromConfig alone, so an older config still compares.)
 */
export function deployableStackSettings(config: Record<string, unknown>, source: string, options: { deploying: boolean } = { deploying: true }): StackSettings {
  const settings = stackSettingsFromConfig(config, source);
  if (settings.snowflake === undefined || !settings.platforms.includes("snowflake")) return settings;
  const problems: { key: string; message: string }[] = [];
  const adminRole = settings.snowflake.adminRole;
  // Checked here, not in the schema: the diff still reads past revisions that ran as SYSADMIN.
  if (SNOWFLAKE_SYSTEM_ROLES.has(adminRole))
    problems.push({
      key: `${PROJECT}:snowflake.adminRole`,
      message: `is ${adminRole}, a Snowflake system role: every role that writes rolls up to adminRole, so each ${adminRole} holder would write prod, and the provisioner's rights (CREATE USER, APPLY AUTHENTICATION POLICY) would widen it. Create the provisioner's own role with the SQL in README "Deploying" and set adminRole and snowflake:role to it, e.g. ${SNOWFLAKE_PROVISIONER_ROLE}`,
    });
  // A preview (review.yml) runs as a read-only role of its own; only the run that changes things must be the admin role.
  const role = options.deploying ? config["snowflake:role"] : settings.snowflake.adminRole;
  // What `pulumi up` creates is owned by the session's role, and a deleted GrantOwnership hands ownership back to
  // CURRENT_ROLE() (v1.2.1 pkg/resources/grant_ownership.go DeleteGrantOwnership): roll-ups must go to that same role.
  if (typeof role !== "string" || role === "")
    problems.push({ key: "snowflake:role", message: `is not set; the stack runs as the provisioner's role and rolls the roles it creates up to it. Set snowflake:role: ${settings.snowflake.adminRole}` });
  else if (role !== settings.snowflake.adminRole)
    problems.push({
      key: "snowflake:role",
      message: `is "${role}", but ${PROJECT}:snowflake.adminRole is "${settings.snowflake.adminRole}"; objects the stack creates are owned by snowflake:role, and CREATE_CI_SCHEMA and ownership hand-backs work only when the roles roll up to that role. Set adminRole: ${role}`,
    });
  // The service users' policy attachment reads SNOWFLAKE.INFORMATION_SCHEMA.POLICY_REFERENCES, which needs a warehouse
  // (v1.2.1 pkg/resources/user_authentication_policy_attachment.go ReadUserAuthenticationPolicyAttachment).
  const warehouse = config["snowflake:warehouse"];
  if (typeof warehouse !== "string" || warehouse === "")
    problems.push({ key: "snowflake:warehouse", message: "is not set; the provider reads authentication-policy attachments through INFORMATION_SCHEMA.POLICY_REFERENCES, which needs a running warehouse. Set snowflake:warehouse to one the provisioner's role may use, e.g. PROVISIONER_WH" });
  if (problems.length > 0) throw new StackSettingsError(source, problems);
  return settings;
}

/** The project's keys of a Pulumi.<stack>.yaml `config:` block, prefix removed; provider keys are not ours. */
export function projectConfig<T>(config: Record<string, T>): Record<string, T> {
  const prefix = `${PROJECT}:`;
  return Object.fromEntries(
    Object.entries(config).filter(([key]) => key.startsWith(prefix)).map(([key, value]) => [key.slice(prefix.length), value]),
  );
}

/** A Pulumi.<stack>.yaml file's whole `config:` block, provider keys included. */
export function readStackConfig(file: string): Record<string, unknown> {
  const document = parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  return document?.config ?? {};
}

/** Settings from a Pulumi.<stack>.yaml file, for commands that run without Pulumi. */
export function loadStackSettings(file: string): StackSettings {
  return stackSettingsFromConfig(readStackConfig(file), basename(file));
}
