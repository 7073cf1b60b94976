import { buildBoundary } from "../boundary/build";
import { selectorsYaml } from "../dbt/package";
import { ExitCode, printFailure, readRoster, scriptCommand } from "./command";

// `npm run dbt-selectors > selectors.yml`: one selector per developer, so `dbt build --selector alice` builds only her domains.

const HELP = `
Each selector is the union of config.schema:<domain> over the developer's domains; dbt adds the tests of the selected
nodes. Copy the output into your dbt project's selectors.yml (dbt reads selectors only from the root project).

Exit codes:
  0  printed
  2  invalid input: a bad option, or roster problems on stderr`;

scriptCommand("dbt-selectors", "Print dbt selectors.yml: one selector per developer, for the domains they have a schema for.", HELP)
  .option("--roster <path>", "team roster to read", "team.yaml")
  .action((options: { roster: string }) => {
    const roster = readRoster(options.roster);
    if (roster === undefined) return;
    process.stdout.write(selectorsYaml(buildBoundary(roster), options.roster));
    process.exitCode = ExitCode.ok;
  })
  .parseAsync()
  .catch(printFailure("dbt-selectors"));
