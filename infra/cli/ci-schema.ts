import { connectLive, safeMessage } from "../audit/connection";
import { CREATE_CI_SCHEMA_FUNCTION, CiSchemaTaken, ciSchemaNameFor, createCiSchema } from "../ci/schema";
import { CI_BUILDER } from "../roster/naming";
import { ExitCode, printFailure, scriptCommand } from "./command";

// `npm run ci-schema -- --live URL --run RUN --domain D`: what a CI job runs before it builds, so that cleanup-ci can
// later tell how old the schema is.

interface CiSchemaOptions {
  live: string;
  run: string;
  domain: string;
  json?: boolean;
}

const HELP = `
Calls ${CREATE_CI_SCHEMA_FUNCTION}(run, domain), which \`pulumi up\` creates: it makes ci_<run>_<domain> owned by ${CI_BUILDER}
and records the server's time in its comment ('warehouse-access:created=<ISO time>'); cleanup-ci drops only schemas
with that marker. The login needs EXECUTE on it (members of ${CI_BUILDER} have it). Running it again for the same run
keeps the first time. Without Node, the same in SQL:

  SELECT ${CREATE_CI_SCHEMA_FUNCTION}('1234', 'sales');   -- returns ci_1234_sales

Exit codes:
  0  created (or already created by this helper for the same run)
  2  invalid input: a bad option, the name is taken by a schema this helper did not make, or the database cannot be reached`;

async function run(options: CiSchemaOptions): Promise<void> {
  try {
    ciSchemaNameFor(options.run, options.domain);
  } catch (error) {
    process.stderr.write(`ci-schema: ${(error as Error).message}\n`);
    process.exitCode = ExitCode.invalidInput;
    return;
  }
  let client;
  try {
    client = await connectLive(options.live, "warehouse-access ci-schema");
    const schema = await createCiSchema(client, options.run, options.domain);
    process.stdout.write(
      options.json
        ? `${JSON.stringify(schema, null, 2)}\n`
        : `${schema.created ? "created" : "already there"} ${schema.schema} (owner ${schema.owner}, created ${schema.createdAt})\n`,
    );
    process.exitCode = ExitCode.ok;
  } catch (error) {
    const why = error instanceof CiSchemaTaken ? error.message : safeMessage(error, options.live);
    process.stderr.write(`ci-schema: ${why}\n`);
    process.exitCode = ExitCode.invalidInput;
  } finally {
    await client?.end().catch(() => undefined);
  }
}

scriptCommand("ci-schema", "Create a CI schema (ci_<run>_<domain>, owned by ci_builder) with its creation time, for cleanup-ci.", HELP)
  .requiredOption("--live <url>", "the PostgreSQL database: postgres://user@host:5432/database (prefer PGPASSWORD to a password in the URL)")
  .requiredOption("--run <run>", "the CI run id: lowercase letters, digits, underscores")
  .requiredOption("--domain <domain>", "the domain the run builds")
  .option("--json", "print the schema as JSON instead of text")
  .action(run)
  .parseAsync()
  .catch(printFailure("ci-schema"));
