import { readFileSync } from "node:fs";
import * as path from "node:path";
import type pg from "pg";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CI_RUN, parseCreatedMarker } from "../../infra/ci/schema";
import { packageRoster, ROSTER_MACRO_FILE, rosterMacro, selectorsYaml } from "../../infra/dbt/package";
import { threadsFor } from "../../infra/dbt/profiles";
import { declareResources } from "../../infra/platforms/declare";
import { Sandbox, type SandboxLogin } from "../../infra/sandbox/setup";
import { runCommand } from "../support/commands";
import { REPO_ROOT, shippedBoundary, shippedSettings } from "../support/shipped";
import { sandboxSettings, shippedProvider } from "../sandbox/support";

// The dbt package in dbt/: its roster is current, and the SQL its macros issue does what they claim on a real
// PostgreSQL with the program's resources applied, run as the logins dbt would run it as. (dbt itself cannot be
// installed here; the Jinja around these statements is checked with real dbt outside CI.)

const macros = readFileSync(path.join(REPO_ROOT, "dbt/macros/create_schema.sql"), "utf8");

/** The SQL inside `{% call statement(...) %}` of one macro, with each `{{ expression }}` replaced from `values`. */
function statementOf(macro: string, values: Record<string, string>): string {
  const body = new RegExp(`{% macro ${macro}\\(.*?%}([\\s\\S]*?){%- endmacro %}`).exec(macros)?.[1];
  const sql = /{%- call statement\('\w+'\) -%}([\s\S]*?){%- endcall -%}/.exec(body ?? "")?.[1];
  if (sql === undefined) throw new Error(`no statement in macro ${macro}`);
  return sql.trim().replace(/{{ (.*?) }}/g, (_, expression: string) => {
    if (!(expression in values)) throw new Error(`macro ${macro}: no value for {{ ${expression} }}`);
    return values[expression]!;
  });
}

describe("the package's roster", () => {
  it("is current for team.yaml and the stack", () => {
    const expected = rosterMacro(packageRoster(shippedBoundary(), shippedSettings()), "team.yaml and Pulumi.prod.yaml");
    expect(readFileSync(path.join(REPO_ROOT, ROSTER_MACRO_FILE), "utf8"), `${ROSTER_MACRO_FILE} is stale: run \`npm run dbt-package\` and commit it`).toBe(expected);
  });

  it("names each developer's domains, the CI function and the Snowflake procedure the stack declares", async () => {
    const roster = packageRoster(shippedBoundary(), shippedSettings());
    expect(roster.developers).toMatchObject({ alice: ["marketing", "product", "sales"], dave: ["product"], erin: ["finance", "sales"] });
    const resources = declareResources(shippedBoundary(), shippedSettings());
    const fn = resources.find((r) => r.type === "postgresql:index/function:Function")!;
    expect(`${fn.inputs.schema}.${fn.inputs.name}`).toBe(roster.postgres_ci_function);
    const procedure = resources.find((r) => r.type === "snowflake:index/procedureSql:ProcedureSql")!;
    expect(`${procedure.inputs.database}.${procedure.inputs.schema}.${procedure.inputs.name}`).toBe(roster.snowflake_ci_procedure);
  });

  it("follows adapter.dispatch: every macro the package dispatches has a default__, and postgres__ and snowflake__ where it issues SQL", () => {
    const sources = ["create_schema.sql", "generate_schema_name.sql"].map((f) => readFileSync(path.join(REPO_ROOT, "dbt/macros", f), "utf8")).join("\n");
    const defined = new Set([...sources.matchAll(/{% macro (\w+)\(/g)].map((m) => m[1]!));
    const dispatched = [...sources.matchAll(/adapter\.dispatch\('(\w+)', '(\w+)'\)/g)].map((m) => [m[1]!, m[2]!]);
    expect(dispatched).toEqual([["create_ci_schema", "warehouse_access"]]);
    for (const name of ["create_ci_schema"]) for (const prefix of ["default", "postgres", "snowflake"]) expect(defined, `${prefix}__${name}`).toContain(`${prefix}__${name}`);
    // dbt's own dispatched macros (namespace dbt) that the package implements; a project routes them through its dispatch config.
    expect([...defined].filter((m) => /^(default|postgres|snowflake)__(create_schema|generate_schema_name)$/.test(m)).sort())
      .toEqual(["default__generate_schema_name", "postgres__create_schema", "snowflake__create_schema"]);
    // Nothing here shadows dbt's dispatchers themselves, which would bypass a project's own overrides.
    expect(defined.has("create_schema") || defined.has("generate_schema_name")).toBe(false);
  });

  it("accepts a run id into SQL only by the pattern ci-schema and ci.create_schema use", () => {
    expect(macros).toContain(`modules.re.match('${CI_RUN.source}', run)`);
  });

  it("gives each developer a selector for exactly their domains, and CI one for the domains it reads", () => {
    const text = selectorsYaml(shippedBoundary(), "team.yaml");
    expect(text).toContain("  - name: dave\n    description: \"dave's domains: product\"\n    definition:\n      union:\n        - method: config.schema\n          value: product\n");
    // dbt's selectors.yml: a top-level `selectors` list of { name, description, definition } (docs.getdbt.com, "YAML Selectors").
    const { selectors } = parseYaml(text) as { selectors: { name: string; definition: { union: { method: string; value: string }[] } }[] };
    const ci = selectors.find((s) => s.name === "ci")!;
    expect(ci.definition.union.map((u) => [u.method, u.value])).toEqual(packageRoster(shippedBoundary(), shippedSettings()).ci_domains.map((d) => ["config.schema", d]));
    expect(text).toContain("# ci leaves out finance: restricted, and CI is none of the readers.");
  });

  it("lets CI build exactly the domains ci_builder reads: finance is restricted and CI is none of its readers", () => {
    expect(packageRoster(shippedBoundary(), shippedSettings()).ci_domains).toEqual(["marketing", "product", "sales"]);
  });
});

describe("the macros' SQL on a real PostgreSQL, as dbt's logins", () => {
  const boundary = shippedBoundary();
  const settings = sandboxSettings();
  const roster = packageRoster(boundary, settings);
  let sandbox: Sandbox;
  let logins: SandboxLogin[];
  const login = (principal: string) => logins.find((l) => l.principal === principal)!;

  beforeAll(async () => {
    sandbox = await Sandbox.start(settings.database, shippedProvider());
    await sandbox.up(declareResources(boundary, settings));
    logins = (await sandbox.seed(boundary)).logins;
  }, 180_000);

  afterAll(async () => {
    await sandbox?.stop();
  });

  it("CI: postgres__create_ci_schema makes ci_<run>_<domain> owned by ci_builder, stamped, and CI builds into it; finance, which CI does not read, is refused", async () => {
    const ci = await sandbox.connectAs(login("svc_ci"));
    try {
      const sqlFor = (domain: string) => statementOf("postgres__create_ci_schema", { "warehouse_access.roster().postgres_ci_function": roster.postgres_ci_function, run: "dbt7", domain });
      expect(sqlFor("sales")).toBe("select ci.create_schema('dbt7', 'sales')");
      await ci.query(sqlFor("sales"));
      await expect(ci.query(sqlFor("finance"))).rejects.toThrow("domain finance is restricted and CI is not one of its readers: add svc_ci to the readers of finance in team.yaml");
      const made = await ci.query<{ name: string; owner: string; comment: string }>(
        "SELECT nspname AS name, nspowner::regrole::text AS owner, obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname LIKE 'ci\\_dbt7\\_%' ORDER BY 1");
      expect(made.rows.map((r) => [r.name, r.owner, parseCreatedMarker(r.comment) instanceof Date])).toEqual([
        ["ci_dbt7_sales", "ci_builder", true],
      ]);
      // What dbt-postgres's table materialization then runs, reading prod.
      await ci.query("create table ci_dbt7_sales.orders as (select id, note from prod_sales.sample)");
      expect((await ci.query("select count(*)::int AS n from ci_dbt7_sales.orders")).rows[0]).toEqual({ n: 1 });
    } finally {
      await ci.end();
    }
  });

  it("CI reads the prod schema of every domain in ci_domains and of no other, so the package refuses the rest", async () => {
    const ci = await sandbox.connectAs(login("svc_ci"));
    try {
      for (const domain of roster.domains) {
        const read = ci.query(`select count(*) from prod_${domain}.sample`);
        if (roster.ci_domains.includes(domain)) await read;
        else await expect(read, domain).rejects.toThrow(`permission denied for schema prod_${domain}`);
      }
    } finally {
      await ci.end();
    }
  });

  it.each([
    ["alice", "alice_sales", "her own schema"],
    ["svc_ci", "ci_dbt8_sales", "a CI schema the package made, with the service logins' search_path of pg_catalog only, which cleanup-ci --run then drops with all of it"],
    ["svc_prod", "prod_sales", "prod, as prod_writer, with the same search_path"],
  ])("%s runs what dbt-postgres runs for a table, a view, an incremental model, a seed and a snapshot in %s (%s)", async (who, schema) => {
    if (who === "svc_ci") {
      const ci = await sandbox.connectAs(login("svc_ci"));
      await ci.query(statementOf("postgres__create_ci_schema", { "warehouse_access.roster().postgres_ci_function": roster.postgres_ci_function, run: "dbt8", domain: "sales" }));
      await ci.end();
    }
    const client = await sandbox.connectAs(login(who));
    try {
      if (who !== "alice") expect((await client.query<{ path: string }>("select current_setting('search_path') as path")).rows[0]!.path).toBe("pg_catalog");
      // Table and view (global_project table/view materializations; postgres__get_rename_table_sql): build aside, swap, drop.
      for (const [kind, name, as] of [["table", "built", "select id, note from prod_sales.sample"], ["view", "built_v", "select id from prod_sales.sample"]] as const) {
        for (let run = 0; run < 2; run++) {
          await client.query(`create ${kind} ${schema}.${name}__dbt_tmp as (${as})`);
          if (run > 0) await client.query(`alter table ${schema}.${name} rename to ${name}__dbt_backup`);
          await client.query(`alter table ${schema}.${name}__dbt_tmp rename to ${name}`);
          if (run > 0) await client.query(`drop ${kind} if exists ${schema}.${name}__dbt_backup cascade`);
        }
      }
      // Incremental: postgres__make_temp_relation gives an unqualified temporary table (TEMPORARY on the database; found
      // through pg_temp, which PostgreSQL searches first when search_path does not list it).
      await client.query(`create temporary table "built__dbt_tmp120000" as (select id, note from prod_sales.sample)`);
      await client.query(`insert into ${schema}.built (id, note) (select id, note from "built__dbt_tmp120000")`);
      // Snapshot (postgres__snapshot_merge_sql): a temporary staging table, then update and insert.
      await client.query(`create table ${schema}.snap as (select id, note, now() as dbt_valid_from, null::timestamptz as dbt_valid_to, md5(id::text) as dbt_scd_id from prod_sales.sample)`);
      await client.query(`create temporary table "snap__dbt_tmp" as (select *, 'insert'::text as dbt_change_type from ${schema}.snap)`);
      await client.query(`update ${schema}.snap set dbt_valid_to = s.dbt_valid_to from "snap__dbt_tmp" as s where s.dbt_scd_id::text = ${schema}.snap.dbt_scd_id::text and s.dbt_change_type::text in ('update'::text, 'delete'::text)`);
      await client.query(`insert into ${schema}.snap (id, note, dbt_valid_from, dbt_valid_to, dbt_scd_id) select s.id, s.note, s.dbt_valid_from, s.dbt_valid_to, s.dbt_scd_id from "snap__dbt_tmp" as s where s.dbt_change_type::text = 'insert'::text`);
      // Seed (global_project seed materialization): create the table, insert the rows.
      await client.query(`create table ${schema}.countries (code text, name text)`);
      await client.query(`insert into ${schema}.countries (code, name) values ($1, $2)`, ["fr", "France"]);
      expect((await client.query(`select (select count(*) from ${schema}.built)::int as built, (select count(*) from ${schema}.snap)::int as snap, (select count(*) from ${schema}.countries)::int as seeds`)).rows[0])
        .toEqual({ built: 2, snap: 2, seeds: 1 });
    } finally {
      if (who !== "svc_ci") await client.query(`drop table if exists ${schema}.built, ${schema}.snap, ${schema}.countries; drop view if exists ${schema}.built_v`).catch(() => undefined);
      await client.end();
    }
    if (who === "svc_ci") {
      // The CI job's last step: what dbt built (views, TOAST-backed text columns) goes with the schema.
      const ci = login("svc_ci");
      const dropped = await runCommand("cleanup-ci", ["--live", sandbox.server.url(settings.database, { user: ci.login, password: ci.password }), "--run", "dbt8"]);
      expect([dropped.status, dropped.stderr]).toEqual([0, ""]);
      const admin = await sandbox.server.client(settings.database);
      expect((await admin.query("select 1 from pg_namespace where nspname = $1", [schema])).rowCount, `${schema} dropped`).toBe(0);
      await admin.end();
    }
  });

  it("developers: dbt-postgres's own `create schema if not exists` is refused, even for a schema that exists", async () => {
    const alice = await sandbox.connectAs(login("alice"));
    try {
      // Why the package replaces postgres__create_schema: PostgreSQL checks CREATE on the database first.
      await expect(alice.query("create schema if not exists alice_finance")).rejects.toThrow(/permission denied for database analytics/);
      await expect(alice.query("create schema if not exists alice_sales")).rejects.toThrow(/permission denied for database analytics/);
      // Her own schemas, which `pulumi up` made, take dbt's models.
      await alice.query("create table alice_sales.orders as (select id, note from prod_sales.sample)");
    } finally {
      await alice.end();
    }
  });

  it("developers: the profile's threads, dbt's own connection and one psql fit the connection limit; one more does not", async () => {
    const threads = threadsFor(settings.postgres.developerConnectionLimit);
    const sessions: pg.Client[] = [];
    try {
      for (let i = 0; i < threads + 2; i++) sessions.push(await sandbox.connectAs(login("alice")));
      await expect(sandbox.connectAs(login("alice"))).rejects.toThrow(/too many connections for role "alice"/);
    } finally {
      await Promise.all(sessions.map((s) => s.end()));
    }
  });
});
