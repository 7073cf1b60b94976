import { connectLive, maskConnectionString, safeMessage } from "../audit/connection";
import { cleanupCiSchemas, cleanupFailed, formatAge, parseAge, type CiSchemaVerdict, type CleanupResult, type RunSchemas } from "../ci/cleanup";
import { connectSnowflake, snowflakeTarget } from "../audit/snowflake/session";
import { ciSchemaNameFor } from "../ci/schema";
import { cleanupSnowflakeCiSchemas } from "../ci/snowflake-cleanup";
import { CI_BUILDER, snowflakeName } from "../roster/naming";
import { alignColumns, count } from "../report/columns";
import { readStackConfig } from "../stack";
import { ExitCode, printFailure, readRoster, readStackSettings, scriptCommand } from "./command";

// `npm run cleanup-ci -- --live URL --older-than 24h [--dry-run] [--json]`: drops stale CI schemas, asks nothing.
// `--run RUN` instead drops one run's schemas, the last step of a CI job.

interface CleanupOptions {
  live: string;
  olderThan?: string;
  run?: string;
  roster: string;
  stackConfig: string;
  dryRun?: boolean;
  json?: boolean;
}

const HELP = `
Drops only schemas named ci_... AND owned by ${CI_BUILDER} AND created longer ago than --older-than, by the creation
marker that \`npm run ci-schema\` writes into the schema's comment. A ci_ schema with another owner or without a
readable marker is listed with the reason and left alone: PostgreSQL keeps no creation time, so its age is unknown.
With --run RUN instead of --older-than: drops ci_<RUN>_<domain> for the roster's domains, whatever their age (the last
step of a CI job), on the same conditions.
Each drop is DROP SCHEMA ... CASCADE in its own transaction. The password is never printed.

With --live snowflake (and --older-than): the same on the Snowflake database of --stack-config, CI_BUILDER's CI_
schemas as CREATE_CI_SCHEMA marks them; each is looked up again just before its DROP SCHEMA ... RESTRICT (Snowflake
DDL cannot share a transaction with the check). Connects as for audit --live snowflake: SNOWFLAKE_PRIVATE_KEY or
SNOWFLAKE_PRIVATE_KEY_PATH, never printed; run it as a user whose role is CI_BUILDER.

Exit codes:
  0  ok: every stale schema was dropped (or, with --dry-run, listed)
  1  a drop failed (each failure is printed; the others still ran)
  2  invalid input: a bad option, or the database cannot be read`;

const VERB: Record<CiSchemaVerdict["action"], string> = { drop: "drop", keep: "keep", skip: "skip" };

function render(result: CleanupResult, target: string): string {
  const cutoff = new Date(Date.parse(result.now) - result.olderThanSeconds * 1000).toISOString();
  const lines = [result.run === undefined
    ? `CI schemas at ${target}: stale means ${CI_BUILDER}'s and created before ${cutoff} (older than ${formatAge(result.olderThanSeconds)})`
    : `CI schemas of run ${result.run} at ${target}: ${CI_BUILDER}'s, any age`];
  if (result.schemas.length === 0) lines.push("  no ci_ schemas");
  lines.push(...alignColumns(result.schemas.map((v) => [VERB[v.action], v.schema, v.owner, v.reason])));
  const drop = result.schemas.filter((v) => v.action === "drop");
  const left = result.schemas.length - drop.length;
  lines.push("");
  if (result.dryRun) {
    lines.push(`Dry run: would drop ${count(drop.length, "schema")}; ${left} left alone. Nothing was dropped.`);
  } else {
    for (const v of drop) lines.push(v.dropped ? `  dropped ${v.schema}` : `  NOT dropped ${v.schema}: ${v.error ?? "unknown error"}`);
    const dropped = drop.filter((v) => v.dropped).length;
    lines.push(`Dropped ${dropped} of ${count(drop.length, result.run === undefined ? "stale schema" : "schema")}; ${left} left alone.`);
  }
  return `${lines.join("\n")}\n`;
}

async function run(options: CleanupOptions): Promise<void> {
  let olderThanSeconds = 0;
  let only: RunSchemas | undefined;
  try {
    if ((options.olderThan === undefined) === (options.run === undefined)) throw new RangeError("give --older-than AGE (stale schemas) or --run RUN (one run's schemas), not both");
    if (options.olderThan !== undefined) olderThanSeconds = parseAge(options.olderThan);
    if (options.run !== undefined) {
      const roster = readRoster(options.roster);
      if (roster === undefined) return;
      only = { run: options.run, names: roster.domains.map((d) => ciSchemaNameFor(options.run!, d.name)) };
    }
  } catch (error) {
    process.stderr.write(`cleanup-ci: ${(error as Error).message}\n`);
    process.exitCode = ExitCode.invalidInput;
    return;
  }
  if (options.live === "snowflake") {
    if (only === undefined) return runOnSnowflake(options, olderThanSeconds);
    process.stderr.write("cleanup-ci: --run is for PostgreSQL; on Snowflake use --older-than\n");
    process.exitCode = ExitCode.invalidInput;
    return;
  }
  const target = maskConnectionString(options.live);
  let client;
  try {
    client = await connectLive(options.live, "warehouse-access cleanup-ci");
  } catch (error) {
    process.stderr.write(`cleanup-ci: ${safeMessage(error, options.live)}\n`);
    process.exitCode = ExitCode.invalidInput;
    return;
  }
  try {
    const result = await cleanupCiSchemas(client, { olderThanSeconds, dryRun: options.dryRun === true, ...(only ? { run: only } : {}) });
    process.stdout.write(options.json ? `${JSON.stringify({ target, ...result }, null, 2)}\n` : render(result, target));
    process.exitCode = cleanupFailed(result) ? ExitCode.violation : ExitCode.ok;
  } catch (error) {
    process.stderr.write(`cleanup-ci: reading the catalog at ${target}: ${safeMessage(error, options.live)}\n`);
    process.exitCode = ExitCode.invalidInput;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function runOnSnowflake(options: CleanupOptions, olderThanSeconds: number): Promise<void> {
  const settings = readStackSettings(options.stackConfig);
  if (settings === undefined) return;
  const database = snowflakeName(settings.database);
  const target = `Snowflake database ${database}`;
  let session;
  try {
    session = await connectSnowflake(snowflakeTarget(process.env, readStackConfig(options.stackConfig)), process.env, "warehouse-access-cleanup-ci");
  } catch (error) {
    process.stderr.write(`cleanup-ci: ${(error as Error).message}\n`);
    process.exitCode = ExitCode.invalidInput;
    return;
  }
  try {
    const result = await cleanupSnowflakeCiSchemas(session, database, { olderThanSeconds, dryRun: options.dryRun === true });
    process.stdout.write(options.json ? `${JSON.stringify({ target, ...result }, null, 2)}\n` : render(result, target));
    process.exitCode = cleanupFailed(result) ? ExitCode.violation : ExitCode.ok;
  } catch (error) {
    process.stderr.write(`cleanup-ci: reading ${target}: ${(error as Error).message}\n`);
    process.exitCode = ExitCode.invalidInput;
  } finally {
    await session.close().catch(() => undefined);
  }
}

scriptCommand("cleanup-ci", "Drop stale CI schemas (ci_<run>_<domain>, owned by ci_builder, older than a threshold). For CI: asks nothing.", HELP)
  .requiredOption("--live <url>", "the PostgreSQL database: postgres://user@host:5432/database (prefer PGPASSWORD to a password in the URL), or snowflake")
  .option("--stack-config <path>", "with --live snowflake: the stack configuration naming the account and database", "Pulumi.prod.yaml")
  .option("--older-than <age>", "drop schemas created longer ago than this: 90m, 24h, 2d, 1w")
  .option("--run <run>", "instead: drop this CI run's schemas (ci_<run>_<domain>), whatever their age")
  .option("--roster <path>", "team roster whose domains --run covers", "team.yaml")
  .option("--dry-run", "list what would be dropped, drop nothing")
  .option("--json", "print the result as JSON instead of text")
  .action(run)
  .parseAsync()
  .catch(printFailure("cleanup-ci"));
