import { buildBoundary } from "../boundary/build";
import { runEnvironment, shellExports } from "../dbt/environment";
import { CI_RUN_VARIABLE, platformFor, targetFor } from "../dbt/targets";
import { ExitCode, printFailure, readRoster, readStackSettings, scriptCommand } from "./command";

// `npm run env -- --as <principal>`: WAREHOUSE_ENV, SCHEMA_PREFIX and each domain's schema, for a pipeline step.

interface EnvOptions {
  as: string;
  roster: string;
  stackConfig: string;
  platform?: string;
  run?: string;
  domain?: string;
  json?: boolean;
}

const HELP = `
WAREHOUSE_ENV is dev, ci or prod: gate side effects on it (log instead of send, in dev and CI). SCHEMA_PREFIX is dbt's
target.schema; WAREHOUSE_SCHEMA_<DOMAIN> is each domain's schema, and WAREHOUSE_SCHEMA the one --domain names.
For a CI account the run id comes from --run or ${CI_RUN_VARIABLE}.

  eval "$(npm run --silent env -- --as alice)"
  npm run --silent env -- --as svc_ci --run "$GITHUB_RUN_ID" --domain sales --json

Exit codes:
  0  printed
  2  invalid input: an unknown principal, a domain they have no schema for, a CI run id missing, or roster problems`;

function run(options: EnvOptions): void {
  const roster = readRoster(options.roster);
  const settings = readStackSettings(options.stackConfig);
  if (roster === undefined || settings === undefined) return;
  const fail = (message: string) => {
    process.stderr.write(`env: ${message}\n`);
    process.exitCode = ExitCode.invalidInput;
  };
  const boundary = buildBoundary(roster);
  const target = targetFor(boundary, options.as);
  if (target === undefined)
    return fail(`--as ${options.as}: no developer or service account of that name in ${options.roster} (or ci, prod)`);
  try {
    // Names are the contract's; Snowflake's are the same in upper case, so only an explicit --platform snowflake changes them.
    const platform = options.platform === undefined ? "postgres" : platformFor(settings, options.platform);
    const runId = options.run ?? process.env[CI_RUN_VARIABLE];
    const environment = runEnvironment(target, { platform, ...(runId ? { run: runId } : {}), ...(options.domain ? { domain: options.domain } : {}) });
    process.stdout.write(options.json ? `${JSON.stringify(environment, null, 2)}\n` : shellExports(environment));
    process.exitCode = ExitCode.ok;
  } catch (error) {
    fail((error as Error).message);
  }
}

scriptCommand("env", "Print the variables a pipeline run needs: WAREHOUSE_ENV (dev|ci|prod), SCHEMA_PREFIX, each domain's schema.", HELP)
  .requiredOption("--as <principal>", "the developer or service account the run logs in as (or ci, prod)")
  .option("--run <run>", `the CI run id (default: $${CI_RUN_VARIABLE})`)
  .option("--domain <domain>", "also print WAREHOUSE_SCHEMA for this domain")
  .option("--platform <platform>", "snowflake: print names in Snowflake's upper case")
  .option("--roster <path>", "team roster to read", "team.yaml")
  .option("--stack-config <path>", "Pulumi stack configuration", "Pulumi.prod.yaml")
  .option("--json", "print JSON instead of shell exports")
  .action(run)
  .parseAsync()
  .catch(printFailure("env"));
