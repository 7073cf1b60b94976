import type { Boundary } from "../../boundary/model";
import type { Violation } from "../../boundary/rules";
import { ExitCode, printReport, readStackSettings, type CommonOptions } from "../../cli/command";
import { snowflakeName } from "../../roster/naming";
import { readStackConfig } from "../../stack";
import { auditSnowflakeLive } from "./audit";
import { snowflakeLiveAuditReport, renderSnowflakeLiveAudit } from "./report";
import { connectSnowflake, SnowflakeConnectionError, snowflakeTarget, type SnowflakeSession } from "./session";

// `audit --live snowflake`: connects with the provider's key-pair variables, reads the account, prints the report.

export const SNOWFLAKE_LIVE_HELP = `
With --live snowflake: the same question on the Snowflake account of --stack-config (snowflake:organizationName,
accountName, user; SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_ROLE and SNOWFLAKE_WAREHOUSE override them), logging in
with a key pair from SNOWFLAKE_PRIVATE_KEY or SNOWFLAKE_PRIVATE_KEY_PATH (+ SNOWFLAKE_PRIVATE_KEY_PASSPHRASE), never
printed. Paths through the provisioner role (snowflake:role), adminRole, ACCOUNTADMIN, SECURITYADMIN and SYSADMIN are "admin".
The session needs a warehouse, and a role that can run SHOW GRANTS on the prod schemas and read SNOWFLAKE.ACCOUNT_USAGE.`;

export interface SnowflakeLiveOptions extends CommonOptions {
  provisioner?: string;
  stackConfig: string;
}

/** Injected by tests; production connects with snowflake-sdk. */
export type SessionFactory = (config: Record<string, unknown>) => Promise<SnowflakeSession>;

const connectFromEnvironment: SessionFactory = (config) =>
  connectSnowflake(snowflakeTarget(process.env, config), process.env, "warehouse-access-audit");

/** Reads the account, prints the report and sets the exit code (1 on drift); never throws, never prints a key. */
export async function runSnowflakeLiveAudit(
  options: SnowflakeLiveOptions,
  boundary: Boundary,
  violations: readonly Violation[],
  connect: SessionFactory = connectFromEnvironment,
): Promise<void> {
  const settings = readStackSettings(options.stackConfig);
  if (settings === undefined) return;
  if (settings.snowflake === undefined) {
    process.stderr.write(`audit: ${options.stackConfig} has no warehouse-access:snowflake settings; add them, or audit PostgreSQL with --live postgres://...\n`);
    process.exitCode = ExitCode.invalidInput;
    return;
  }
  const config = readStackConfig(options.stackConfig);
  // Never the role the audit connects as: an auditor holding an undeclared write would label its own drift "admin".
  const provisionerRole = options.provisioner ?? (typeof config["snowflake:role"] === "string" ? config["snowflake:role"] : undefined);
  if (provisionerRole === undefined) {
    process.stderr.write(`audit: ${options.stackConfig} has no snowflake:role (the role pulumi up runs as); pass --provisioner ROLE\n`);
    process.exitCode = ExitCode.invalidInput;
    return;
  }
  let session: SnowflakeSession | undefined;
  try {
    session = await connect(config);
    const audit = await auditSnowflakeLive(session, boundary, snowflakeName(settings.database), {
      adminRole: settings.snowflake.adminRole,
      provisionerRole,
    });
    printReport(options, snowflakeLiveAuditReport(audit, violations, options.roster), renderSnowflakeLiveAudit);
    process.exitCode = audit.drift > 0 || violations.length > 0 ? ExitCode.violation : ExitCode.ok;
  } catch (error) {
    const where = error instanceof SnowflakeConnectionError && session === undefined ? "" : "reading the account: ";
    process.stderr.write(`audit --live snowflake: ${where}${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = ExitCode.invalidInput;
  } finally {
    await session?.close().catch(() => undefined);
  }
}
