import { connectLive, safeMessage } from "../audit/connection";
import { CREATE_CI_SCHEMA_FUNCTION, CiSchemaTaken, ciSchemaNameFor, createCiSchema, type CiSchema } from "../ci/schema";
import { buildBoundary } from "../boundary/build";
import { ciDomains } from "../dbt/targets";
import { CI_BUILDER } from "../roster/naming";
import { ExitCode, printFailure, readRoster, scriptCommand } from "./command";

// `npm run ci-schema -- --live URL --run RUN --domain D [--domain E] | --all`: what a CI job runs before it builds, so
// that it fails before dbt starts and cleanup-ci can later tell how old each schema is.

interface CiSchemaOptions {
  live: string;
  run: string;
  domain: string[];
  all?: boolean;
  roster: string;
  json?: boolean;
}

const HELP = `
Calls ${CREATE_CI_SCHEMA_FUNCTION}(run, domain) once per domain, which \`pulumi up\` creates: it makes ci_<run>_<domain>
owned by ${CI_BUILDER} and records the server's time in its comment ('warehouse-access:created=<ISO time>'); cleanup-ci
drops only schemas with that marker. The login needs EXECUTE on it (members of ${CI_BUILDER} have it). Running it again
for the same run keeps the first time. Without Node, the same in SQL:

  SELECT ${CREATE_CI_SCHEMA_FUNCTION}('1234', 'sales');   -- returns ci_1234_sales

Exit codes:
  0  every schema created (or already created by this helper for the same run)
  2  invalid input: a bad option, a name taken by a schema this helper did not make, or the database cannot be reached;
     the schemas made before the failure are listed and stay`;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The domains to create (and, for --all, the ones CI cannot read), checked before any SQL; a message on stderr and undefined when the options cannot work. */
function domainsOf(options: CiSchemaOptions): { domains: string[]; left: string[] } | undefined {
  const fail = (message: string) => {
    process.stderr.write(`ci-schema: ${message}\n`);
    process.exitCode = ExitCode.invalidInput;
    return undefined;
  };
  if (options.all === true && options.domain.length > 0) return fail("give --domain (repeatable) or --all, not both");
  if (options.all !== true && options.domain.length === 0) return fail("name the domains: --domain sales [--domain finance ...], or --all for every domain CI reads");
  let domains = options.domain;
  let left: string[] = [];
  if (options.all === true) {
    const roster = readRoster(options.roster);
    if (roster === undefined) return undefined;
    const boundary = buildBoundary(roster);
    domains = ciDomains(boundary);
    // A restricted domain CI does not read would get an empty schema and a failing build: say so, and make none.
    left = roster.domains.filter((d) => !domains.includes(d.name)).map((d) => d.name);
    if (domains.length === 0) return fail(`--all: ${CI_BUILDER} reads no domain's prod schema in ${options.roster}`);
  }
  try {
    for (const domain of domains) ciSchemaNameFor(options.run, domain);
  } catch (error) {
    return fail((error as Error).message);
  }
  return { domains: [...new Set(domains)], left };
}

const line = (schema: CiSchema) => `${schema.created ? "created" : "already there"} ${schema.schema} (owner ${schema.owner}, created ${schema.createdAt})\n`;

async function run(options: CiSchemaOptions): Promise<void> {
  const chosen = domainsOf(options);
  if (chosen === undefined) return;
  const { domains, left } = chosen;
  if (left.length > 0 && !options.json) process.stdout.write(`left out ${left.join(", ")}: restricted, and CI is none of the readers in ${options.roster}\n`);
  const made: CiSchema[] = [];
  let client;
  try {
    client = await connectLive(options.live, "warehouse-access ci-schema");
    for (const domain of domains) {
      const schema = await createCiSchema(client, options.run, domain);
      made.push(schema);
      if (!options.json) process.stdout.write(line(schema));
    }
    process.exitCode = ExitCode.ok;
  } catch (error) {
    const why = error instanceof CiSchemaTaken ? error.message : safeMessage(error, options.live);
    process.stderr.write(`ci-schema: ${why}\n`);
    process.exitCode = ExitCode.invalidInput;
  } finally {
    await client?.end().catch(() => undefined);
    if (options.json) process.stdout.write(`${JSON.stringify(made, null, 2)}\n`);
  }
}

scriptCommand("ci-schema", "Create CI schemas (ci_<run>_<domain>, owned by ci_builder) with their creation time, for cleanup-ci.", HELP)
  .requiredOption("--live <url>", "the PostgreSQL database: postgres://user@host:5432/database (prefer PGPASSWORD to a password in the URL)")
  .requiredOption("--run <run>", "the CI run id: lowercase letters and digits")
  .option("--domain <domain>", "a domain the run builds; repeat it for each domain", collect, [])
  .option("--all", "every domain CI reads in the roster (a restricted domain only when CI is among its readers)")
  .option("--roster <path>", "team roster to read for --all", "team.yaml")
  .option("--json", "print the schemas as a JSON array instead of text")
  .action(run)
  .parseAsync()
  .catch(printFailure("ci-schema"));
