import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { runEnvironment, shellExports } from "../../infra/dbt/environment";
import { profilesDocument, profilesYaml, SECRET_VARIABLES, threadsFor, warehouseLocation } from "../../infra/dbt/profiles";
import { PACKAGE_DIRECTORY } from "../../infra/dbt/package";
import { targetFor, targets } from "../../infra/dbt/targets";
import { runCommand } from "../support/commands";
import { REPO_ROOT, shippedBoundary, shippedSettings } from "../support/shipped";

// profiles.yml and the run environment for the shipped roster: who logs in as whom, into which schema prefix, and no
// secret anywhere in what is printed.

const settings = shippedSettings();
const boundary = shippedBoundary();
const where = warehouseLocation((parseYaml(readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> }).config);
type Outputs = Record<string, Record<string, unknown>>;
const outputsOf = (document: Record<string, unknown>) => (document.warehouse_access as { outputs: Outputs }).outputs;

describe("profiles.yml", () => {
  it("has a target per developer with their login and schema, then ci and prod, on PostgreSQL", () => {
    const outputs = outputsOf(profilesDocument("warehouse_access", targets(boundary), "postgres", settings, where));
    expect(Object.keys(outputs)).toEqual(["alice", "bob", "carol", "dave", "erin", "ci", "prod"]);
    expect(outputs.dave).toMatchObject({ type: "postgres", user: "dave_k", schema: "dave", dbname: "analytics", host: "localhost", port: 5432, sslmode: "require" });
    expect(outputs.ci).toMatchObject({ user: "svc_ci", schema: "ci_{{ env_var('CI_RUN_ID') }}" });
    expect(outputs.prod).toMatchObject({ user: "svc_prod", schema: "prod" });
    for (const output of Object.values(outputs)) expect(output.password).toBe(`{{ env_var('${SECRET_VARIABLES.postgresPassword}') }}`);
  });

  it("keeps a developer's threads below their connection limit", () => {
    const outputs = outputsOf(profilesDocument("warehouse_access", targets(boundary), "postgres", settings, where));
    expect(outputs.alice!.threads).toBe(threadsFor(settings.postgres.developerConnectionLimit));
    expect(threadsFor(5)).toBe(3);
    expect(threadsFor(1)).toBe(1);
  });

  it("on Snowflake: the developer's role and warehouse, SSO for people, a key path from the environment for services", () => {
    const outputs = outputsOf(profilesDocument("warehouse_access", targets(boundary), "snowflake", settings, where));
    expect(outputs.carol).toMatchObject({ type: "snowflake", account: "acme-analytics", user: "CAROL.DIAZ@ACME.EXAMPLE", authenticator: "externalbrowser", role: "DEV_CAROL", database: "ANALYTICS", warehouse: "DEV_WH", schema: "carol" });
    expect(outputs.ci).toMatchObject({ user: "SVC_CI", role: "CI_BUILDER", warehouse: "CI_WH", private_key_path: "{{ env_var('SNOWFLAKE_PRIVATE_KEY_PATH') }}",
      private_key_passphrase: "{{ env_var('DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY_PASSPHRASE', '') }}" });
    expect(outputs.prod).toMatchObject({ role: "PROD_WRITER", warehouse: "PROD_WH", schema: "prod" });
    expect(Object.values(outputs).some((o) => "password" in o)).toBe(false);
  });

  it("holds no key, no password and nothing from team.yaml's keys", () => {
    const text = profilesYaml("warehouse_access", targets(boundary), "postgres", settings, where, "team.yaml");
    for (const principal of boundary.principals) if (principal.rsaPublicKey) expect(text).not.toContain(principal.rsaPublicKey.slice(0, 40));
    expect(text).not.toMatch(/password: (?!"\{\{ env_var)/);
  });
});

describe("the run environment", () => {
  it("names the environment, prefix and schemas for a developer, for CI with its run, and for prod", () => {
    expect(runEnvironment(targetFor(boundary, "dave")!, { platform: "postgres", domain: "product" })).toEqual({
      WAREHOUSE_ENV: "dev", SCHEMA_PREFIX: "dave", DBT_TARGET: "dave", WAREHOUSE_SCHEMA: "dave_product", WAREHOUSE_SCHEMA_PRODUCT: "dave_product",
    });
    expect(runEnvironment(targetFor(boundary, "svc_ci")!, { platform: "postgres", run: "42", domain: "sales" })).toMatchObject({
      WAREHOUSE_ENV: "ci", SCHEMA_PREFIX: "ci_42", DBT_TARGET: "ci", WAREHOUSE_SCHEMA: "ci_42_sales", WAREHOUSE_SCHEMA_MARKETING: "ci_42_marketing",
    });
    expect(runEnvironment(targetFor(boundary, "prod")!, { platform: "snowflake" })).toMatchObject({ WAREHOUSE_ENV: "prod", SCHEMA_PREFIX: "PROD", WAREHOUSE_SCHEMA_SALES: "PROD_SALES", WAREHOUSE_SCHEMA_FINANCE: "PROD_FINANCE" });
  });

  it("gives CI only the domains it reads: a restricted one is left out until CI is among its readers", () => {
    const ci = runEnvironment(targetFor(boundary, "ci")!, { platform: "postgres", run: "42" });
    expect(Object.keys(ci).filter((k) => k.startsWith("WAREHOUSE_SCHEMA_"))).toEqual(["WAREHOUSE_SCHEMA_MARKETING", "WAREHOUSE_SCHEMA_PRODUCT", "WAREHOUSE_SCHEMA_SALES"]);
    expect(() => runEnvironment(targetFor(boundary, "ci")!, { platform: "postgres", run: "42", domain: "finance" }))
      .toThrow("svc_ci builds no finance: it is restricted, and svc_ci is none of its readers in team.yaml");
  });

  it("refuses a domain the developer has no schema for, and CI without a run id", () => {
    expect(() => runEnvironment(targetFor(boundary, "bob")!, { platform: "postgres", domain: "finance" })).toThrow("bob has no schema for domain finance: add finance to bob's domains in team.yaml");
    expect(() => runEnvironment(targetFor(boundary, "ci")!, { platform: "postgres" })).toThrow("svc_ci is a CI account: pass --run RUN or set CI_RUN_ID");
    expect(() => runEnvironment(targetFor(boundary, "ci")!, { platform: "postgres", run: "Run-1" })).toThrow(/run "Run-1"/);
  });
});

describe("the commands", () => {
  it("dbt-profiles --developer writes one person's profile, and exits 2 for an unknown one or an ambiguous platform", async () => {
    const one = await runCommand("dbt-profiles", ["--platform", "postgres", "--developer", "erin"]);
    expect([one.status, one.stderr]).toEqual([0, ""]);
    expect(Object.keys((parseYaml(one.stdout) as { warehouse_access: { outputs: Outputs } }).warehouse_access.outputs)).toEqual(["erin"]);
    const nobody = await runCommand("dbt-profiles", ["--platform", "postgres", "--developer", "zed"]);
    expect([nobody.status, nobody.stdout]).toEqual([2, ""]);
    expect(nobody.stderr).toContain("--developer zed: no developer of that name in team.yaml (developers: alice, bob, carol, dave, erin)");
    const both = await runCommand("dbt-profiles", []);
    expect([both.status, both.stderr]).toEqual([2, "dbt-profiles: the stack configures postgres and snowflake: pass --platform postgres or --platform snowflake\n"]);
  }, 120_000);

  it("env prints shell exports a script can eval, JSON with --json, and exits 2 for an unknown principal", async () => {
    const shell = await runCommand("env", ["--as", "svc_ci", "--domain", "sales"], { env: { CI_RUN_ID: "1234" } });
    expect([shell.status, shell.stderr]).toEqual([0, ""]);
    expect(shell.stdout).toContain("export WAREHOUSE_ENV='ci'\nexport SCHEMA_PREFIX='ci_1234'\nexport DBT_TARGET='ci'\nexport WAREHOUSE_SCHEMA='ci_1234_sales'\n");
    const json = await runCommand("env", ["--as", "alice", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ WAREHOUSE_ENV: "dev", SCHEMA_PREFIX: "alice" });
    const nobody = await runCommand("env", ["--as", "zed"]);
    expect([nobody.status, nobody.stderr]).toEqual([2, "env: --as zed: no developer or service account of that name in team.yaml (or ci, prod)\n"]);
  }, 120_000);
});

describe("the README's dbt section", () => {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const block = (after: string) => {
    const start = readme.indexOf(after);
    expect(start, `README has no "${after}"`).toBeGreaterThan(-1);
    return readme.slice(start + after.length, readme.indexOf("```", start));
  };

  it("shows the profile and the environment the commands print today", () => {
    const alice = profilesYaml("warehouse_access", [targetFor(boundary, "alice")!], "postgres", settings, where, "team.yaml and Pulumi.prod.yaml");
    expect(block("$ npm run --silent dbt-profiles -- --platform postgres --developer alice\n")).toBe(alice);
    const ci = runEnvironment(targetFor(boundary, "svc_ci")!, { platform: "postgres", run: "1234", domain: "sales" });
    expect(block("$ npm run --silent env -- --as svc_ci --run 1234 --domain sales\n")).toBe(shellExports(ci));
  });

  it("installs the package from its subdirectory and routes dbt's dispatch through the package's own name", () => {
    const packages = parseYaml(block("# packages.yml\n")) as { packages: { subdirectory: string }[] };
    expect(packages.packages[0]!.subdirectory).toBe(PACKAGE_DIRECTORY);
    const project = parseYaml(block("# dbt_project.yml: route dbt's dispatched macros through the package (your own project first, so you can override)\n")) as {
      profile: string; dispatch: { macro_namespace: string; search_order: string[] }[];
    };
    const name = (parseYaml(readFileSync(path.join(REPO_ROOT, PACKAGE_DIRECTORY, "dbt_project.yml"), "utf8")) as { name: string }).name;
    expect(project.dispatch).toEqual([{ macro_namespace: "dbt", search_order: ["my_project", name, "dbt"] }]);
    expect(project.profile).toBe("warehouse_access");
  });

  it("has a CI workflow that parses and runs only commands this project has, with options they take", () => {
    const workflow = parseYaml(block("# .github/workflows/dbt.yml in the dbt project\n")) as { jobs: Record<string, { steps: { run?: string }[] }> };
    const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const runs = Object.values(workflow.jobs).flatMap((job) => job.steps.map((s) => s.run ?? "")).join("\n");
    const used = [...runs.matchAll(/npm run (?:--prefix \S+ )?--silent (\S+)(?: -- ([^>\n]*))?/g)];
    expect(used.map((m) => m[1])).toEqual(["dbt-profiles", "dbt-selectors", "ci-schema", "cleanup-ci", "cleanup-ci"]);
    expect(runs, "CI builds only what it reads").toContain("dbt build --target ci --selector ci ");
    for (const [, script, args] of used) {
      expect(scripts[script!], script).toBeDefined();
      const help = readFileSync(path.join(REPO_ROOT, "infra/cli", `${script}.ts`), "utf8");
      for (const option of args?.match(/--[a-z-]+/g) ?? []) expect(help, `${script} ${option}`).toMatch(new RegExp(`[oO]ption\\("${option}[ "]`));
    }
  });
});
