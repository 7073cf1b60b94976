import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse as parseYaml } from "yaml";
import { buildBoundary } from "../boundary/build";
import { profilesDocument, profilesYaml, warehouseLocation } from "../dbt/profiles";
import { platformFor, targetFor, targets } from "../dbt/targets";
import { ExitCode, printFailure, readRoster, readStackSettings, scriptCommand } from "./command";

// `npm run dbt-profiles [-- --developer NAME]`: profiles.yml from the roster and the stack, secrets left to env_var().

interface ProfilesOptions {
  roster: string;
  stackConfig: string;
  platform?: string;
  developer?: string;
  profile: string;
  json?: boolean;
}

const HELP = `
One target per developer (their login, schema <name>, threads below their connection limit), \`ci\` (schema
ci_{{ env_var('CI_RUN_ID') }}) and \`prod\` (schema prod). dbt names each node's schema <target schema>_<domain>.
Passwords and keys are never written: PostgreSQL reads DBT_ENV_SECRET_PGPASSWORD (dbt keeps DBT_ENV_SECRET_* out of its
logs), Snowflake service users SNOWFLAKE_PRIVATE_KEY_PATH; Snowflake developers sign in through the browser (SSO).

  npm run --silent dbt-profiles -- --platform postgres > profiles.yml
  npm run --silent dbt-profiles -- --platform postgres --developer alice > ~/.dbt/profiles.yml

Exit codes:
  0  printed
  2  invalid input: a bad option, an unknown developer, or roster or stack problems on stderr`;

function run(options: ProfilesOptions): void {
  const roster = readRoster(options.roster);
  const settings = readStackSettings(options.stackConfig);
  if (roster === undefined || settings === undefined) return;
  const fail = (message: string) => {
    process.stderr.write(`dbt-profiles: ${message}\n`);
    process.exitCode = ExitCode.invalidInput;
  };
  let platform;
  try {
    platform = platformFor(settings, options.platform);
  } catch (error) {
    return fail((error as Error).message);
  }
  const boundary = buildBoundary(roster);
  let chosen = targets(boundary);
  if (options.developer !== undefined) {
    const target = targetFor(boundary, options.developer);
    if (target?.env !== "dev") return fail(`--developer ${options.developer}: no developer of that name in ${options.roster} (developers: ${roster.developers.map((d) => d.name).join(", ")})`);
    chosen = [target];
  }
  const config = (parseYaml(readFileSync(options.stackConfig, "utf8")) as { config?: Record<string, unknown> }).config ?? {};
  const where = warehouseLocation(config);
  const source = `${options.roster} and ${basename(options.stackConfig)}`;
  process.stdout.write(options.json
    ? `${JSON.stringify(profilesDocument(options.profile, chosen, platform, settings, where), null, 2)}\n`
    : profilesYaml(options.profile, chosen, platform, settings, where, source));
  process.exitCode = ExitCode.ok;
}

scriptCommand("dbt-profiles", "Print a dbt profiles.yml for the roster: a target per developer, ci and prod; no secrets in it.", HELP)
  .option("--roster <path>", "team roster to read", "team.yaml")
  .option("--stack-config <path>", "Pulumi stack configuration: database, provider host and account", "Pulumi.prod.yaml")
  .option("--platform <platform>", "postgres or snowflake (needed when the stack configures both)")
  .option("--developer <name>", "only this developer's target, for onboarding")
  .option("--profile <name>", "the profile name your dbt_project.yml uses", "warehouse_access")
  .option("--json", "print the profile as JSON instead of YAML")
  .action(run)
  .parseAsync()
  .catch(printFailure("dbt-profiles"));
