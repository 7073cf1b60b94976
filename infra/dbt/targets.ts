import { accessOf } from "../boundary/access";
import type { Boundary, Principal } from "../boundary/model";
import { CI_SCHEMA_PREFIX, PROD_SCHEMA_PREFIX, developerSchemaName, snowflakeName } from "../roster/naming";
import type { Platform, StackSettings } from "../stack";

// Who runs dbt, as what, into which schemas: one target per developer, one for CI, one for prod. dbt's default
// generate_schema_name makes `<target.schema>_<custom schema>`, so each target's schema is the contract's prefix.

/** The environment a run is in; scripts and dbt models gate side effects on it. */
export type WarehouseEnv = "dev" | "ci" | "prod";

export interface Target {
  /** The dbt target name (`--target`): the developer's name, or `ci` / `prod` for the first account of that purpose. */
  name: string;
  principal: Principal;
  env: WarehouseEnv;
  /** `target.schema`, the prefix of every schema the run builds; for CI a dbt expression with the run id. */
  schema: string;
  /** The domains this target may build, with the schema each one gets. */
  domains: { domain: string; schema: string }[];
  /** CI and prod: the domains whose prod schema it cannot read (restricted ones it is no reader of), so cannot build. */
  cannotRead: string[];
}

/** The CI run id as dbt reads it; the same variable `npm run env` and `ci-schema --run` use. */
export const CI_RUN_VARIABLE = "CI_RUN_ID";

/** The target name of the first CI account, and of the selector for what CI builds. */
export const CI_TARGET = "ci";

const envOf = (principal: Principal): WarehouseEnv => (principal.kind === "developer" ? "dev" : principal.purpose === "prod" ? "prod" : "ci");

/** Every principal's target, developers first, in roster order. */
export function targets(boundary: Boundary): Target[] {
  const prod = boundary.schemas.filter((s) => s.kind === "prod");
  const taken = new Set<string>();
  return boundary.principals.map((principal): Target => {
    const env = envOf(principal);
    if (env === "dev") {
      const domains = boundary.schemas
        .filter((s) => s.kind === "developer" && s.developer === principal.name)
        .map((s) => ({ domain: s.domain, schema: developerSchemaName(principal.name, s.domain) }));
      taken.add(principal.name);
      return { name: principal.name, principal, env, schema: principal.name, domains, cannotRead: [] };
    }
    // The first account of each purpose is `ci` / `prod`; another one keeps its own name.
    const name = taken.has(env) ? principal.name : env;
    taken.add(name);
    const prefix = env === "prod" ? PROD_SCHEMA_PREFIX : `${CI_SCHEMA_PREFIX}<run>_`;
    const schema = env === "prod" ? PROD_SCHEMA_PREFIX.slice(0, -1) : `${CI_SCHEMA_PREFIX}<run>`;
    const read = new Set(readDomains(boundary, principal.name));
    return {
      name, principal, env, schema, cannotRead: prod.filter((s) => !read.has(s.domain)).map((s) => s.domain),
      domains: prod.filter((s) => read.has(s.domain)).map((s) => ({ domain: s.domain, schema: `${prefix}${s.domain}` })),
    };
  });
}

/** The domains whose prod schema `holder` (a principal or a role) reads: a model reads its domain's prod data. */
function readDomains(boundary: Boundary, holder: string): string[] {
  const read = new Set(accessOf(boundary, holder).map((path) => path.schema));
  return boundary.schemas.filter((s) => s.kind === "prod" && read.has(s.name)).map((s) => s.domain);
}

/** The domains CI builds: those its role (ci_builder) reads, whichever CI account runs. */
export const ciDomains = (boundary: Boundary): string[] => readDomains(boundary, boundary.ciSchemas.creator);

/** The target for a roster name (developer or service account) or a target name (`ci`, `prod`). */
export function targetFor(boundary: Boundary, who: string): Target | undefined {
  const all = targets(boundary);
  return all.find((t) => t.principal.name === who) ?? all.find((t) => t.name === who);
}

/** A schema name as it is written on a platform: Snowflake resolves unquoted names to upper case. */
export const onPlatform = (platform: Platform, name: string): string => (platform === "snowflake" ? snowflakeName(name) : name);

/** The platform a command works on: the only one the stack configures, or the one asked for; a RangeError saying which to pass. */
export function platformFor(settings: StackSettings, asked: string | undefined): Platform {
  const configured = settings.platforms;
  if (asked === undefined && configured.length === 1) return configured[0]!;
  if (asked !== undefined && configured.includes(asked as Platform)) return asked as Platform;
  throw new RangeError(`${asked === undefined ? "" : `--platform ${asked}: `}the stack configures ${configured.join(" and ")}: pass --platform ${configured.join(" or --platform ")}`);
}
