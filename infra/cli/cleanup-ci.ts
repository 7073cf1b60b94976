import { connectLive, maskConnectionString, safeMessage } from "../audit/connection";
import { cleanupCiSchemas, cleanupFailed, formatAge, parseAge, type CiSchemaVerdict, type CleanupResult } from "../ci/cleanup";
import { CI_BUILDER } from "../roster/naming";
import { alignColumns, count } from "../report/columns";
import { ExitCode, printFailure, scriptCommand } from "./command";

// `npm run cleanup-ci -- --live URL --older-than 24h [--dry-run] [--json]`: drops stale CI schemas, asks nothing.

interface CleanupOptions {
  live: string;
  olderThan: string;
  dryRun?: boolean;
  json?: boolean;
}

const HELP = `
Drops only schemas named ci_... AND owned by ${CI_BUILDER} AND created longer ago than --older-than, by the creation
marker that \`npm run ci-schema\` writes into the schema's comment. A ci_ schema with another owner or without a
readable marker is listed with the reason and left alone: PostgreSQL keeps no creation time, so its age is unknown.
Each drop is DROP SCHEMA ... CASCADE in its own transaction. The password is never printed.

Exit codes:
  0  ok: every stale schema was dropped (or, with --dry-run, listed)
  1  a drop failed (each failure is printed; the others still ran)
  2  invalid input: a bad option, or the database cannot be read`;

const VERB: Record<CiSchemaVerdict["action"], string> = { drop: "drop", keep: "keep", skip: "skip" };

function render(result: CleanupResult, target: string): string {
  const cutoff = new Date(Date.parse(result.now) - result.olderThanSeconds * 1000).toISOString();
  const lines = [`CI schemas at ${target}: stale means ${CI_BUILDER}'s and created before ${cutoff} (older than ${formatAge(result.olderThanSeconds)})`];
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
    lines.push(`Dropped ${dropped} of ${count(drop.length, "stale schema")}; ${left} left alone.`);
  }
  return `${lines.join("\n")}\n`;
}

async function run(options: CleanupOptions): Promise<void> {
  let olderThanSeconds: number;
  try {
    olderThanSeconds = parseAge(options.olderThan);
  } catch (error) {
    process.stderr.write(`cleanup-ci: ${(error as Error).message}\n`);
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
    const result = await cleanupCiSchemas(client, { olderThanSeconds, dryRun: options.dryRun === true });
    process.stdout.write(options.json ? `${JSON.stringify({ target, ...result }, null, 2)}\n` : render(result, target));
    process.exitCode = cleanupFailed(result) ? ExitCode.violation : ExitCode.ok;
  } catch (error) {
    process.stderr.write(`cleanup-ci: reading the catalog at ${target}: ${safeMessage(error, options.live)}\n`);
    process.exitCode = ExitCode.invalidInput;
  } finally {
    await client.end().catch(() => undefined);
  }
}

scriptCommand("cleanup-ci", "Drop stale CI schemas (ci_<run>_<domain>, owned by ci_builder, older than a threshold). For CI: asks nothing.", HELP)
  .requiredOption("--live <url>", "the PostgreSQL database: postgres://user@host:5432/database (prefer PGPASSWORD to a password in the URL)")
  .requiredOption("--older-than <age>", "drop schemas created longer ago than this: 90m, 24h, 2d, 1w")
  .option("--dry-run", "list what would be dropped, drop nothing")
  .option("--json", "print the result as JSON instead of text")
  .action(run)
  .parseAsync()
  .catch(printFailure("cleanup-ci"));
