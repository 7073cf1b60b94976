import { stringify } from "yaml";
import type { Platform, StackSettings } from "../stack";
import { CI_BUILDER, PROD_WRITER, developerRoleName, snowflakeName } from "../roster/naming";
import { CI_RUN_VARIABLE, type Target } from "./targets";

// profiles.yml for dbt-postgres and dbt-snowflake, one output per target. Secrets only as env_var(): dbt scrubs
// variables named DBT_ENV_SECRET_* from its logs (docs.getdbt.com, "env_var": secrets), and the file holds none.

/** Where the warehouse is, from the stack's provider settings (`postgresql:*`, `snowflake:*` in Pulumi.<stack>.yaml). */
export interface WarehouseLocation {
  postgres: { host: string; port: number; sslmode?: string };
  snowflake?: { account: string };
}

export function warehouseLocation(config: Record<string, unknown>): WarehouseLocation {
  const text = (key: string): string | undefined => (typeof config[key] === "string" && config[key] !== "" ? (config[key] as string) : undefined);
  const port = Number(config["postgresql:port"] ?? 5432);
  const sslmode = text("postgresql:sslmode");
  const org = text("snowflake:organizationName");
  const account = text("snowflake:accountName");
  return {
    // The provider's defaults (terraform-provider-postgresql: host localhost, port 5432).
    postgres: { host: text("postgresql:host") ?? "localhost", port: Number.isInteger(port) ? port : 5432, ...(sslmode ? { sslmode } : {}) },
    ...(org && account ? { snowflake: { account: `${org}-${account}` } } : {}),
  };
}

/** The variable each login's secret comes from; never its value. */
export const SECRET_VARIABLES = {
  postgresPassword: "DBT_ENV_SECRET_PGPASSWORD",
  snowflakePrivateKeyPath: "SNOWFLAKE_PRIVATE_KEY_PATH",
  /** Only for an encrypted key; dbt-snowflake treats an empty passphrase as none (auth.py: private_key_from_file). */
  snowflakePrivateKeyPassphrase: "DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY_PASSPHRASE",
} as const;

/** env_var() in the profile; with a default, a variable that may be unset. */
const envVar = (name: string, fallback?: string): string => `{{ env_var('${name}'${fallback === undefined ? "" : `, '${fallback}'`}) }}`;

/**
 * Threads below the connection limit: dbt holds one connection per thread and one more for the run itself (schema
 * creation, hooks), and a developer keeps one for psql or an IDE.
 */
export const threadsFor = (connectionLimit: number): number => Math.max(1, connectionLimit - 2);

const SERVICE_THREADS = 8;

function schemaOf(target: Target): string {
  return target.env === "ci" ? `ci_${envVar(CI_RUN_VARIABLE)}` : target.schema;
}

function output(target: Target, platform: Platform, settings: StackSettings, where: WarehouseLocation): Record<string, unknown> {
  const threads = target.env === "dev" ? threadsFor(settings.postgres.developerConnectionLimit) : SERVICE_THREADS;
  if (platform === "postgres")
    return {
      type: "postgres",
      host: where.postgres.host,
      port: where.postgres.port,
      user: target.principal.logins.postgres,
      password: envVar(SECRET_VARIABLES.postgresPassword),
      dbname: settings.database,
      schema: schemaOf(target),
      threads,
      ...(where.postgres.sslmode ? { sslmode: where.postgres.sslmode } : {}),
    };
  const snowflake = settings.snowflake!;
  const role = snowflakeName(target.env === "dev" ? developerRoleName(target.principal.name) : target.env === "ci" ? CI_BUILDER : PROD_WRITER);
  return {
    type: "snowflake",
    account: where.snowflake?.account ?? envVar("SNOWFLAKE_ACCOUNT"),
    user: target.principal.logins.snowflake,
    // People sign in through the account's SSO; service users are key-pair only (D7).
    ...(target.env === "dev"
      ? { authenticator: "externalbrowser" }
      : { private_key_path: envVar(SECRET_VARIABLES.snowflakePrivateKeyPath), private_key_passphrase: envVar(SECRET_VARIABLES.snowflakePrivateKeyPassphrase, "") }),
    role,
    database: snowflakeName(settings.database),
    warehouse: target.env === "dev" ? snowflake.warehouses.developers : target.env === "ci" ? snowflake.warehouses.ci : snowflake.warehouses.prod,
    schema: schemaOf(target),
    threads: target.env === "dev" ? 8 : SERVICE_THREADS,
  };
}

/** The profile document: `profile` → { target: the first target, outputs }. */
export function profilesDocument(profile: string, targets: readonly Target[], platform: Platform, settings: StackSettings, where: WarehouseLocation): Record<string, unknown> {
  return {
    [profile]: {
      target: targets[0]?.name,
      outputs: Object.fromEntries(targets.map((t) => [t.name, output(t, platform, settings, where)])),
    },
  };
}

/** Where each target's secret comes from, said in the file's header; never the secret. */
function secretNote(platform: Platform, settings: StackSettings): string {
  if (platform === "snowflake")
    return `# Service users read ${SECRET_VARIABLES.snowflakePrivateKeyPath} (their private key's path; ${SECRET_VARIABLES.snowflakePrivateKeyPassphrase} if it is encrypted); developers sign in through the browser.`;
  const auth = settings.postgres.loginAuthentication;
  return auth.method === "iam"
    ? `# ${SECRET_VARIABLES.postgresPassword}: an IAM token, e.g. aws rds generate-db-auth-token --hostname HOST --port PORT --username LOGIN.`
    : `# ${SECRET_VARIABLES.postgresPassword}: the login's password, set outside this tool (README: "How PostgreSQL logins authenticate").`;
}

export function profilesYaml(profile: string, targets: readonly Target[], platform: Platform, settings: StackSettings, where: WarehouseLocation, source: string): string {
  const header = [
    `# Generated by \`npm run dbt-profiles\` from ${source}; regenerate rather than edit.`,
    "# No secret is in this file: each comes from an environment variable.",
    secretNote(platform, settings),
  ];
  return `${header.join("\n")}\n${stringify(profilesDocument(profile, targets, platform, settings, where), { lineWidth: 0 })}`;
}
