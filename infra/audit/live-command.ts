import type { Command } from "commander";
import type { Boundary } from "../boundary/model";
import type { Violation } from "../boundary/rules";
import { ExitCode, printReport, readStackSettings, type CommonOptions } from "../cli/command";
import { connectLive, LiveConnectionError, maskConnectionString, safeMessage } from "./connection";
import { auditLive, UnknownProvisionerError } from "./live";
import { liveAuditReport, renderLiveAudit } from "./live-report";

// `audit --live URL`: the options it adds to the audit command and the run itself, so the command file only branches.

export interface LiveAuditCliOptions {
  live?: string;
  provisioner?: string;
  stackConfig: string;
}

const LIVE_HELP = `
With --live (PostgreSQL), read from the catalog in two queries: every role that can write to each prod_ schema and how
(superuser, ownership, CREATE, table, column and sequence grants, default privileges, PUBLIC, predefined roles, the
database owner, CREATE on the database, event triggers, views and rules that forward writes, objects prod depends on,
user mappings, through memberships it inherits, can SET ROLE to, or holds ADMIN on); every role that can read a
restricted domain's data (its prod schema, developer and CI copies, views over them); what PUBLIC holds on prod; and
whether the provisioner can SET ROLE to the CI role. Declared paths are "declared", the provisioner and the bootstrap
superuser "admin"; anything else is DRIFT (exit 1), as are missing, undeclared and look-alike prod schemas. Exit 2
when the database cannot be read or the provisioner is no role there.
The password is never printed; prefer PGPASSWORD (or ~/.pgpass) to a password in the URL.`;

/** Adds --live and --provisioner to the audit command. */
export const withLiveAudit = (command: Command): Command =>
  command
    .option("--live <url>", "audit a live database instead: postgres://user@host:5432/database, or snowflake")
    .option("--provisioner <role>", "with --live: the role that runs pulumi up, an admin path (default: postgresql:username in --stack-config)")
    .option("--stack-config <path>", "with --live: the stack configuration naming the provisioner", "Pulumi.prod.yaml")
    .addHelpText("after", LIVE_HELP);

/** Reads the live catalog, prints the report and sets the exit code; never throws, never prints the password. */
export async function runLiveAudit(options: CommonOptions & LiveAuditCliOptions, boundary: Boundary, violations: readonly Violation[]): Promise<void> {
  const url = options.live;
  if (url === undefined) {
    process.stderr.write("audit: --provisioner needs --live <url>\n");
    process.exitCode = ExitCode.invalidInput;
    return;
  }
  // Never the role we connect as: an auditor holding an undeclared write would label its own drift "admin".
  const provisioner = options.provisioner ?? readStackSettings(options.stackConfig)?.postgres.provisioner;
  if (provisioner === undefined) {
    if (process.exitCode === undefined) process.stderr.write(`audit: ${options.stackConfig} has no postgresql:username; pass --provisioner ROLE\n`);
    process.exitCode = ExitCode.invalidInput;
    return;
  }
  let client;
  try {
    client = await connectLive(url, "warehouse-access audit");
    const audit = await auditLive(client, boundary, { target: maskConnectionString(url), provisioner });
    printReport(options, liveAuditReport(audit, violations, options.roster), renderLiveAudit);
    process.exitCode = audit.drift > 0 || violations.length > 0 ? ExitCode.violation : ExitCode.ok;
  } catch (error) {
    const where = error instanceof LiveConnectionError || error instanceof UnknownProvisionerError ? "" : `reading the catalog at ${maskConnectionString(url)}: `;
    process.stderr.write(`audit --live: ${where}${safeMessage(error, url)}\n`);
    process.exitCode = ExitCode.invalidInput;
  } finally {
    await client?.end().catch(() => undefined);
  }
}
