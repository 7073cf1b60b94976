import { CI_RUN, CI_RUN_RULE } from "../ci/schema";
import { ciSchemaName } from "../roster/naming";
import type { Platform } from "../stack";
import { CI_RUN_VARIABLE, onPlatform, type Target, type WarehouseEnv } from "./targets";

// The variables a pipeline step needs to know where it runs: the environment (for side-effect toggles), the schema
// prefix, and each domain's schema. The same names dbt derives from its target, for scripts that are not dbt.

export interface RunEnvironment {
  WAREHOUSE_ENV: WarehouseEnv;
  /** `target.schema` in dbt: every schema is `<SCHEMA_PREFIX>_<domain>`. */
  SCHEMA_PREFIX: string;
  DBT_TARGET: string;
  /** With --domain: that domain's schema. */
  WAREHOUSE_SCHEMA?: string;
  /** `WAREHOUSE_SCHEMA_<DOMAIN>` for every domain the principal builds. */
  [schemaOfDomain: `WAREHOUSE_SCHEMA_${string}`]: string;
}

/** The environment for a target; a RangeError naming the fix when the run id or the domain does not fit. */
export function runEnvironment(target: Target, options: { platform: Platform; run?: string; domain?: string }): RunEnvironment {
  let prefix = target.schema;
  let schemaOf = (domain: string) => target.domains.find((d) => d.domain === domain)!.schema;
  if (target.env === "ci") {
    const run = options.run;
    if (run === undefined) throw new RangeError(`${target.principal.name} is a CI account: pass --run RUN or set ${CI_RUN_VARIABLE}`);
    if (!CI_RUN.test(run)) throw new RangeError(`run "${run}": ${CI_RUN_RULE}`);
    prefix = `ci_${run}`;
    schemaOf = (domain) => ciSchemaName(run, domain);
  }
  const on = (name: string) => onPlatform(options.platform, name);
  const environment: RunEnvironment = { WAREHOUSE_ENV: target.env, SCHEMA_PREFIX: on(prefix), DBT_TARGET: target.name };
  if (options.domain !== undefined) {
    if (!target.domains.some((d) => d.domain === options.domain))
      throw new RangeError(target.env === "dev"
        ? `${target.name} has no schema for domain ${options.domain}: add ${options.domain} to ${target.name}'s domains in team.yaml`
        : target.cannotRead.includes(options.domain)
          ? `${target.principal.name} builds no ${options.domain}: it is restricted, and ${target.principal.name} is none of its readers in team.yaml`
          : `--domain ${options.domain}: no such domain in team.yaml (domains: ${target.domains.map((d) => d.domain).join(", ")})`);
    environment.WAREHOUSE_SCHEMA = on(schemaOf(options.domain));
  }
  for (const { domain } of target.domains) environment[`WAREHOUSE_SCHEMA_${domain.toUpperCase()}`] = on(schemaOf(domain));
  return environment;
}

/** `export NAME='value'` lines for `eval "$(npm run --silent env -- --as alice)"`; values are plain identifiers. */
export const shellExports = (environment: RunEnvironment): string =>
  Object.entries(environment).map(([name, value]) => `export ${name}='${String(value)}'\n`).join("");
