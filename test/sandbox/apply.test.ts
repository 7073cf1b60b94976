import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import { loadRoster } from "../../infra/roster/load";
import { declareResources, type DeclaredResource } from "../../infra/platforms/declare";
import {
  defaultPrivilegesApplyStatements, functionCreateStatements, functionDeleteStatements, grantApplyStatements,
  grantRoleCreateStatements, grantRoleDeleteStatements, normalizeFunctionBody, quoteIdentifier, RESOURCE_TYPES,
  roleCreateStatements, roleDeleteStatements, schemaCreateStatements,
} from "../../infra/sandbox/apply";
import type { AppliedStatement } from "../../infra/sandbox/apply";
import { changesNothing, planSteps } from "../../infra/sandbox/engine";
import { keyOf } from "../../infra/platforms/resources";
import { withDefaults } from "../../infra/sandbox/provider-schema";
import { Sandbox, type Seeded } from "../../infra/sandbox/setup";
import { REPO_ROOT } from "../support/shipped";
import { sandboxSettings, shippedProvider } from "./support";

// The applier is a stand-in for terraform-provider-postgresql: the SQL it issues per resource, the order it applies
// them in, and, on a real server, the semantics the boundary relies on.

const boundary = buildBoundary(loadRoster(`${REPO_ROOT}/team.yaml`));
const settings = sandboxSettings();
let resources: DeclaredResource[];
let sandbox: Sandbox;
let seeded: Seeded;
let admin: pg.Client;

const named = (type: string, name: string): DeclaredResource => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};

beforeAll(async () => {
  resources = declareResources(boundary, settings);
  sandbox = await Sandbox.start(settings.database, shippedProvider());
  await sandbox.up(resources);
  seeded = await sandbox.seed(boundary);
  admin = await sandbox.server.client(settings.database);
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await sandbox?.stop();
});

describe("the provider's SQL, per resource type", () => {
  it("quotes every identifier as lib/pq does", () => {
    expect(quoteIdentifier("prod_sales")).toBe('"prod_sales"');
    expect(quoteIdentifier('we"ird')).toBe('"we""ird"');
    expect(quoteIdentifier("cut\u0000here")).toBe('"cut"');
  });

  it("makes a grant authoritative for its scope: REVOKE ALL on the scope, then GRANT", () => {
    expect(grantApplyStatements(named(RESOURCE_TYPES.grant, "prod_sales/prod_reader/schema").inputs)).toEqual([
      'REVOKE ALL PRIVILEGES ON SCHEMA "prod_sales" FROM "prod_reader"',
      'GRANT USAGE ON SCHEMA "prod_sales" TO "prod_reader"',
    ]);
    expect(grantApplyStatements(named(RESOURCE_TYPES.grant, "prod_sales/prod_reader/tables").inputs)).toEqual([
      'REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA "prod_sales" FROM "prod_reader"',
      'GRANT SELECT ON ALL TABLES IN SCHEMA "prod_sales" TO "prod_reader"',
    ]);
    expect(grantApplyStatements(named(RESOURCE_TYPES.grant, "ci/ci_builder/functions").inputs)).toEqual([
      'REVOKE ALL PRIVILEGES ON ALL FUNCTIONS IN SCHEMA "ci" FROM "ci_builder"',
      'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "ci" TO "ci_builder"',
    ]);
    expect(grantApplyStatements({ database: "d", objectType: "database", role: "r", privileges: ["CONNECT", "CREATE"] })).toEqual([
      'REVOKE ALL PRIVILEGES ON DATABASE "d" FROM "r"',
      'GRANT CONNECT,CREATE ON DATABASE "d" TO "r"',
    ]);
  });

  it("creates a function with CREATE FUNCTION, replaces it in place with CREATE OR REPLACE, drops it by signature", () => {
    const fn = named(RESOURCE_TYPES.function, "ci.create_schema").inputs;
    const [create] = functionCreateStatements(fn);
    const head = 'CREATE FUNCTION "ci"."create_schema" (\n    IN run text,\n    IN domain text\n)\nRETURNS text\nLANGUAGE plpgsql\nSECURITY DEFINER\nAS $function$';
    expect(create!.startsWith(head)).toBe(true);
    expect(create).toBe(`${head}${String(fn.body)}$function$;`);
    // The provider writes "CREATE " then " OR REPLACE ": two spaces, harmless to the server.
    expect(functionCreateStatements(fn, true)[0]!.startsWith('CREATE  OR REPLACE FUNCTION "ci"."create_schema" (')).toBe(true);
    expect(functionDeleteStatements(fn)).toEqual(['DROP FUNCTION IF EXISTS "ci"."create_schema"(text,text) RESTRICT']);
    // Defaults as the provider fills them: schema public, plpgsql, void, IN; non-default options spelled out.
    expect(functionCreateStatements({ name: "f", body: "BEGIN END", volatility: "STABLE", strict: true, parallel: "SAFE", args: [{ type: "int", mode: "OUT", name: "n" }] })).toEqual([
      'CREATE FUNCTION "public"."f" (\n    OUT n int\n)\nRETURNS int\nLANGUAGE plpgsql\nSTABLE\nPARALLEL SAFE\nSTRICT\nAS $function$BEGIN END$function$;',
    ]);
    expect(functionDeleteStatements({ name: "f", args: [{ type: "int", mode: "OUT" }, { type: "text" }], dropCascade: true })).toEqual(['DROP FUNCTION IF EXISTS "public"."f"(text) CASCADE']);
    expect(() => functionCreateStatements({ name: "f", body: "x", volatility: "SOMETIMES" })).toThrow(/volatility/);
    // A body given with its dollar-quote wrapper loses it, as normalizeFunctionBody does.
    expect(normalizeFunctionBody("AS $$ SELECT 1 $$")).toBe("SELECT 1");
    expect(normalizeFunctionBody("SELECT 1")).toBe("SELECT 1");
  });

  it("grants a role membership by revoking it first, so the admin option is exactly as declared", () => {
    // The program declares none; a hand-written one, as the policy pack judges them.
    const membership = { role: "provisioner", grantRole: "ci_builder" };
    expect(grantRoleCreateStatements(membership)).toEqual(['REVOKE "ci_builder" FROM "provisioner"', 'GRANT "ci_builder" TO "provisioner"']);
    expect(grantRoleDeleteStatements(membership)).toEqual(['REVOKE "ci_builder" FROM "provisioner"']);
  });

  it("turns privileges: [] into the revoke alone", () => {
    expect(grantApplyStatements(named(RESOURCE_TYPES.grant, "prod_sales/public/tables").inputs)).toEqual([
      'REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA "prod_sales" FROM "public"',
    ]);
  });

  it("rejects what the provider rejects", () => {
    expect(() => grantApplyStatements({ database: "d", schema: "s", objectType: "schema", role: "r", privileges: ["SELECT"] })).toThrow(/not an allowed privilege/);
    expect(() => grantApplyStatements({ database: "d", objectType: "table", role: "r", privileges: ["SELECT"] })).toThrow(/schema' is mandatory/);
  });

  it("revokes, then grants, default privileges FOR ROLE the owner IN SCHEMA", () => {
    expect(defaultPrivilegesApplyStatements(named(RESOURCE_TYPES.defaultPrivileges, "prod_finance/prod_finance_reader/future-tables").inputs)).toEqual([
      'ALTER DEFAULT PRIVILEGES FOR ROLE "prod_writer" IN SCHEMA "prod_finance" REVOKE ALL ON TABLES FROM "prod_finance_reader"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "prod_writer" IN SCHEMA "prod_finance" GRANT SELECT ON TABLES TO "prod_finance_reader"',
    ]);
  });

  it("creates roles with every option, their memberships and settings", () => {
    expect(roleCreateStatements(named(RESOURCE_TYPES.role, "svc_prod").inputs)).toEqual([
      `CREATE ROLE "svc_prod" WITH VALID UNTIL 'infinity' CONNECTION LIMIT -1 NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT LOGIN NOBYPASSRLS NOREPLICATION`,
      'GRANT "prod_writer" TO "svc_prod"',
      'ALTER ROLE "svc_prod" SET search_path TO "pg_catalog"',
      'ALTER ROLE "svc_prod" SET ROLE TO "prod_writer"',
    ]);
    expect(roleCreateStatements(named(RESOURCE_TYPES.role, "dave_k").inputs)).toEqual([
      `CREATE ROLE "dave_k" WITH VALID UNTIL 'infinity' CONNECTION LIMIT 5 NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT LOGIN NOBYPASSRLS NOREPLICATION`,
      'GRANT "dev_dave" TO "dave_k"',
      'ALTER ROLE "dave_k" SET search_path TO DEFAULT',
      'ALTER ROLE "dave_k" SET statement_timeout TO 300000',
    ]);
  });

  it("deletes a role by handing what it owns to the provider's user first", () => {
    expect(roleDeleteStatements(named(RESOURCE_TYPES.role, "dev_bob").inputs, "provisioner")).toEqual({
      owned: ['REASSIGN OWNED BY "dev_bob" TO "provisioner"', 'DROP OWNED BY "dev_bob"'],
      role: ['DROP ROLE "dev_bob"'],
    });
  });

  it("creates a schema owned by its declared owner, or adopts an existing one", () => {
    const alice = named(RESOURCE_TYPES.schema, "alice_sales").inputs;
    expect(schemaCreateStatements(alice, false)).toEqual(['CREATE SCHEMA IF NOT EXISTS "alice_sales" AUTHORIZATION "dev_alice"']);
    expect(schemaCreateStatements(alice, true)).toEqual(['ALTER SCHEMA "alice_sales" OWNER TO "dev_alice"']);
    const prod = named(RESOURCE_TYPES.schema, "prod_sales").inputs;
    expect(schemaCreateStatements(prod, false)).toEqual(['CREATE SCHEMA IF NOT EXISTS "prod_sales" AUTHORIZATION "prod_writer"']);
    expect(schemaCreateStatements(prod, true)).toEqual(['ALTER SCHEMA "prod_sales" OWNER TO "prod_writer"']);
    // The provider sets an owner only when one is declared: an existing schema without one keeps its owner.
    expect(schemaCreateStatements({ ...prod, owner: undefined }, true)).toEqual([]);
  });
});

/** The state a clean `pulumi up` leaves: every resource stored as its config with the provider's defaults. */
const cleanState = (declared: readonly DeclaredResource[]) =>
  new Map(declared.filter((r) => r.custom).map((r) => [keyOf(r), { resource: r, attributes: withDefaults(r.type, r.inputs) }]));

/** Whether `from` waits for `to` through its dependsOn, directly or not: the only order the engine keeps. */
function waitsFor(from: DeclaredResource, to: DeclaredResource, all: readonly DeclaredResource[]): boolean {
  const byKey = new Map(all.map((r) => [keyOf(r), r]));
  const seen = new Set<string>();
  const stack = [...from.dependsOn];
  while (stack.length > 0) {
    const key = keyOf(stack.pop()!);
    if (key === keyOf(to)) return true;
    if (seen.has(key)) continue;
    seen.add(key);
    stack.push(...(byKey.get(key)?.dependsOn ?? []));
  }
  return false;
}

describe("the order and the diff, as Pulumi runs them", () => {
  it("has every resource wait, through dependsOn, for the roles and schemas it names: the engine knows no other order", () => {
    const roles = new Map(resources.filter((r) => r.type === RESOURCE_TYPES.role).map((r) => [String(r.inputs.name), r]));
    const schemas = new Map(resources.filter((r) => r.type === RESOURCE_TYPES.schema).map((r) => [String(r.inputs.name), r]));
    let checked = 0;
    for (const r of resources.filter((x) => x.custom)) {
      const i = r.inputs;
      const names = [i.owner, i.role, i.grantRole, i.assumeRole, ...((i.roles as string[] | undefined) ?? [])];
      for (const role of names.filter((x): x is string => typeof x === "string" && roles.has(x) && roles.get(x) !== r)) {
        expect(waitsFor(r, roles.get(role)!, resources), `${r.name} → role ${role}`).toBe(true);
        checked++;
      }
      const schema = typeof i.schema === "string" ? schemas.get(i.schema) : undefined;
      if (schema && schema !== r) {
        expect(waitsFor(r, schema, resources), `${r.name} → schema ${String(i.schema)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it("creates the CI function after its schema's USAGE grant, and grants EXECUTE on it only once it exists", () => {
    const at = (name: string) => resources.find((r) => r.name === name && r.custom)!;
    expect(waitsFor(at("ci/ci_builder/schema"), at("ci"), resources)).toBe(true);
    expect(waitsFor(at("ci.create_schema"), at("ci/ci_builder/schema"), resources)).toBe(true);
    expect(waitsFor(at("ci/ci_builder/functions"), at("ci.create_schema"), resources)).toBe(true);
    expect(waitsFor(at("ci/public/functions"), at("ci/ci_builder/functions"), resources)).toBe(true);
  });

  it("changes a function's body in place and replaces it when its signature changes", () => {
    const fn = named(RESOURCE_TYPES.function, "ci.create_schema");
    const changes = (declared: DeclaredResource[]) => planSteps(declared, cleanState(resources)).filter((s) => s.operation !== "same").map((s) => `${s.operation} ${s.resource.name}`);
    expect(changes(resources.map((r) => (r === fn ? { ...r, inputs: { ...r.inputs, body: `${String(r.inputs.body)}\n-- edited` } } : r)))).toEqual(["update ci.create_schema"]);
    // deleteBeforeReplace, so the old function goes first; its grants follow it (replaceWith) and run again on the new one.
    expect(changes(resources.map((r) => (r === fn ? { ...r, inputs: { ...r.inputs, args: [{ name: "run", type: "text" }] } } : r)))).toEqual([
      "replace ci.create_schema", "replace ci/ci_builder/functions", "replace ci/public/functions",
    ]);
    expect(fn.deleteBeforeReplace).toBe(true);
  });

  it("refuses a second resource with one URN before it changes anything, as Pulumi's step generator does", () => {
    const grant = resources.find((r) => r.type === RESOURCE_TYPES.grant)!;
    expect(() => planSteps([...resources, { ...grant }], new Map())).toThrow(`two resources would be ${keyOf(grant)}; logical names must be unique per type`);
  });

  it("does nothing on a re-apply without changes, like `pulumi up` without --refresh", () => {
    expect(changesNothing(planSteps(resources, cleanState(resources)))).toBe(true);
  });

  it("refuses to delete a protected prod schema (D6) and retains an offboarded developer's schema", () => {
    const withoutProdSales = resources.filter((r) => !(r.type === RESOURCE_TYPES.schema && r.name === "prod_sales"));
    expect(() => planSteps(withoutProdSales, cleanState(resources))).toThrow(/protected/);
    const withoutBob = resources.filter((r) => r.parent?.name !== "bob" && r.name !== "bob");
    const steps = planSteps(withoutBob, cleanState(resources)).filter((s) => s.operation !== "same");
    expect(steps.map((s) => `${s.operation} ${s.resource.name}`).sort()).toEqual([
      "delete bob", "delete bob_marketing", "delete bob_sales", "delete dev_bob",
    ]);
    // The schemas and dev_bob's grants on them are forgotten, not dropped or revoked (dropping dev_bob revokes the grants).
    expect(steps.filter((s) => s.resource.type !== RESOURCE_TYPES.role).every((s) => s.resource.retainOnDelete)).toBe(true);
  });

  it("replaces a grant, deleting it first, when its scope changes (ForceNew schema, deleteBeforeReplace)", () => {
    const changed = resources.map((r) => (r.name === "prod_sales/prod_reader/tables" ? { ...r, inputs: { ...r.inputs, schema: "prod_marketing" } } : r));
    const steps = planSteps(changed, cleanState(resources)).filter((s) => s.operation !== "same");
    expect(steps.map((s) => `${s.operation} ${s.resource.name} ${s.changed.join(",")}`)).toEqual(["replace prod_sales/prod_reader/tables schema"]);
    expect(steps[0]!.resource.deleteBeforeReplace).toBe(true);
  });
});

describe("on a real server", () => {
  const has = async (sql: string, params: unknown[]) => (await admin.query<{ ok: boolean }>(sql, params)).rows[0]!.ok;
  const tablePrivilege = (role: string, table: string, privilege: string) =>
    has("SELECT has_table_privilege($1, $2::regclass, $3) AS ok", [role, table, privilege]);
  const publicHolds = async (table: string) =>
    (await admin.query("SELECT 1 FROM pg_class, aclexplode(relacl) a WHERE oid = $1::regclass AND a.grantee = 0", [table])).rowCount! > 0;

  it("re-applying an authoritative grant revokes a hand-added privilege in its scope, and nothing outside it", async () => {
    await admin.query("CREATE ROLE hand_made NOLOGIN");
    await admin.query("GRANT INSERT ON prod_sales.sample TO prod_reader");
    await admin.query("GRANT CREATE ON SCHEMA prod_sales TO prod_reader");
    await admin.query("GRANT INSERT ON prod_sales.sample TO hand_made");
    expect(await tablePrivilege("prod_reader", "prod_sales.sample", "INSERT")).toBe(true);

    // A plain `pulumi up` sees no change; with --refresh the grant reads the drift and its update re-applies the scope.
    expect(changesNothing((await sandbox.up(resources)).steps)).toBe(true);
    expect(await tablePrivilege("prod_reader", "prod_sales.sample", "INSERT")).toBe(true);
    const applied: AppliedStatement[] = [];
    const refreshed = await sandbox.up(resources, { refresh: true, log: (s) => applied.push(s) });
    expect(refreshed.steps.filter((s) => s.operation !== "same").map((s) => `${s.operation} ${s.resource.name} ${s.changed.join(",")}`).sort())
      .toEqual(["update prod_sales/prod_reader/schema privileges", "update prod_sales/prod_reader/tables privileges"]);
    expect(applied.every((s) => s.type === RESOURCE_TYPES.grant)).toBe(true);

    expect(await tablePrivilege("prod_reader", "prod_sales.sample", "INSERT")).toBe(false);
    expect(await tablePrivilege("prod_reader", "prod_sales.sample", "SELECT")).toBe(true);
    expect(await has("SELECT has_schema_privilege('prod_reader', 'prod_sales', 'CREATE') AS ok", [])).toBe(false);
    expect(await has("SELECT has_schema_privilege('prod_reader', 'prod_sales', 'USAGE') AS ok", [])).toBe(true);
    // Not in any declared grant's scope: a stand-in for the provider repairs only what the program registered.
    expect(await tablePrivilege("hand_made", "prod_sales.sample", "INSERT")).toBe(true);
  });

  it("privileges: [] revokes a SELECT and USAGE hand-granted to PUBLIC", async () => {
    await admin.query("GRANT SELECT ON prod_marketing.sample TO PUBLIC");
    await admin.query("GRANT USAGE ON SCHEMA prod_marketing TO PUBLIC");
    expect(await publicHolds("prod_marketing.sample")).toBe(true);
    const probe = await sandbox.connectAs(seeded.logins.find((l) => l.principal === "PUBLIC")!);
    try {
      expect((await probe.query("SELECT count(*) FROM prod_marketing.sample")).rowCount).toBe(1);
      await sandbox.up(resources, { refresh: true });
      expect(await publicHolds("prod_marketing.sample")).toBe(false);
      expect(await has("SELECT has_schema_privilege('sandbox_public', 'prod_marketing', 'USAGE') AS ok", [])).toBe(false);
      await expect(probe.query("SELECT count(*) FROM prod_marketing.sample")).rejects.toMatchObject({ code: "42501" });
    } finally {
      await probe.end();
    }
  });

  it("default privileges make a table the prod account creates later readable by exactly the schema's readers", async () => {
    const login = (principal: string) => sandbox.connectAs(seeded.logins.find((l) => l.principal === principal)!);
    const prod = await login("svc_prod");
    try {
      // The assumed role is set at login (ALTER ROLE ... SET ROLE), so this session acts as the writer.
      expect((await prod.query("SELECT current_user AS u, session_user AS s")).rows[0]).toEqual({ u: "prod_writer", s: "svc_prod" });
      await prod.query("CREATE TABLE prod_sales.later (id integer); INSERT INTO prod_sales.later VALUES (7)");
      await prod.query("CREATE TABLE prod_finance.later (id integer); INSERT INTO prod_finance.later VALUES (8)");
    } finally {
      await prod.end();
    }
    const reads = async (principal: string, table: string) => {
      const client = await login(principal);
      try {
        return (await client.query<{ id: number }>(`SELECT id FROM ${table}`)).rows[0]?.id;
      } catch (error) {
        return (error as { code?: string }).code;
      } finally {
        await client.end();
      }
    };
    expect(await reads("alice", "prod_sales.later")).toBe(7);
    expect(await reads("svc_ci", "prod_sales.later")).toBe(7);
    expect(await reads("erin", "prod_finance.later")).toBe(8);
    expect(await reads("alice", "prod_finance.later")).toBe("42501");
    expect(await reads("PUBLIC", "prod_sales.later")).toBe("42501");
  });

  it("keeps a SECURITY DEFINER function the prod account creates later from running for anyone else", async () => {
    const login = (principal: string) => sandbox.connectAs(seeded.logins.find((l) => l.principal === principal)!);
    const prod = await login("svc_prod");
    try {
      await prod.query("CREATE FUNCTION prod_sales.as_writer() RETURNS text LANGUAGE sql SECURITY DEFINER AS 'SELECT current_user::text'");
    } finally {
      await prod.end();
    }
    const calls = async (principal: string) => {
      const client = await login(principal);
      try {
        return (await client.query<{ who: string }>("SELECT prod_sales.as_writer() AS who")).rows[0]?.who;
      } catch (error) {
        return (error as { code?: string }).code;
      } finally {
        await client.end();
      }
    };
    // alice and svc_ci can use prod_sales (they read it), so only the revoked EXECUTE stands between them and prod_writer.
    expect(await calls("alice")).toBe("42501");
    expect(await calls("svc_ci")).toBe("42501");
    expect(await calls("svc_prod")).toBe("prod_writer");
  });

  it("makes ci.create_schema a SECURITY DEFINER function of the provisioner, executable by ci_builder alone", async () => {
    const fn = await admin.query<{ owner: string; definer: boolean; acl: string[] }>(
      "SELECT proowner::regrole::text AS owner, prosecdef AS definer, proacl::text[] AS acl FROM pg_proc WHERE oid = 'ci.create_schema(text, text)'::regprocedure",
    );
    expect(fn.rows).toEqual([{ owner: "provisioner", definer: true, acl: ["provisioner=X/provisioner", "ci_builder=X/provisioner"] }]);
    const schema = await admin.query<{ acl: string[] }>("SELECT nspacl::text[] AS acl FROM pg_namespace WHERE nspname = 'ci'");
    expect(schema.rows).toEqual([{ acl: ["provisioner=UC/provisioner", "ci_builder=U/provisioner"] }]);
    // The provisioner holds no ci_builder between calls (on 16+ only the ADMIN-only row CREATE ROLE gave it, which lets it
    // neither use nor become ci_builder): ci.create_schema grants it to itself for the call.
    const options = sandbox.major >= 16 ? "admin_option, inherit_option OR set_option AS uses" : "admin_option, true AS uses";
    const members = await admin.query<{ member: string; admin_option: boolean; uses: boolean }>(
      `SELECT member::regrole::text AS member, ${options} FROM pg_auth_members WHERE roleid = 'ci_builder'::regrole ORDER BY 1`);
    expect(members.rows).toEqual([
      ...(sandbox.major >= 16 ? [{ member: "provisioner", admin_option: true, uses: false }] : []),
      { member: "svc_ci", admin_option: false, uses: true },
    ]);
    // CI's database privileges are PUBLIC's and nothing more: CONNECT and TEMPORARY, no CREATE.
    expect(await has("SELECT has_database_privilege('ci_builder', current_database(), 'CREATE') AS ok", [])).toBe(false);
  });

  it("has the CI login act as ci_builder, so the schema it gets from ci.create_schema is ci_builder's, with its creation marker", async () => {
    expect(seeded.ciSchema).toMatchObject({ name: "ci_sandbox_marketing", owner: "ci_builder" });
    expect(seeded.ciSchema!.comment).toMatch(/^warehouse-access:created=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const login = await sandbox.connectAs(seeded.logins.find((l) => l.principal === "svc_ci")!);
    try {
      expect((await login.query("SELECT current_user AS u, session_user AS s")).rows[0]).toEqual({ u: "ci_builder", s: "svc_ci" });
      // A re-run of the same CI job gets the same schema back, untouched.
      expect((await login.query("SELECT ci.create_schema('sandbox', 'marketing') AS name")).rows[0]).toEqual({ name: "ci_sandbox_marketing" });
    } finally {
      await login.end();
    }
  });

  it("ci.create_schema works for a non-superuser owner (postgresql:superuser: false) that may grant itself ci_builder and has CREATE on the database", async () => {
    // The sandbox's provisioner is a superuser; production's is not, so the function is tried as owned by one that is not.
    const asOwner = async (grants: string): Promise<string> => {
      await admin.query("BEGIN");
      try {
        await admin.query(`CREATE ROLE plain_provisioner NOSUPERUSER CREATEROLE; ${grants}`);
        await admin.query("ALTER FUNCTION ci.create_schema(text, text) OWNER TO plain_provisioner");
        await admin.query("SET LOCAL SESSION AUTHORIZATION svc_ci; SET LOCAL ROLE ci_builder");
        await admin.query("SELECT ci.create_schema('plain', 'sales')");
        return (await admin.query<{ owner: string }>("SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = 'ci_plain_sales'")).rows[0]!.owner;
      } catch (error) {
        return (error as Error).message;
      } finally {
        await admin.query("ROLLBACK");
      }
    };
    // 16+: the ADMIN option a CREATEROLE provisioner gets on the roles it creates, without SET.
    const admin16 = "GRANT ci_builder TO plain_provisioner WITH ADMIN OPTION, SET FALSE, INHERIT FALSE";
    expect(await asOwner(`GRANT CREATE ON DATABASE analytics TO plain_provisioner; ${admin16}`)).toBe("ci_builder");
    expect(await asOwner(admin16)).toBe("permission denied for database analytics");
    expect(await asOwner("GRANT CREATE ON DATABASE analytics TO plain_provisioner")).toBe('permission denied to grant role "ci_builder"');
  });

  it("gives each login its settings: a developer's statement timeout and connection limit, a service login's search path", async () => {
    const roles = await admin.query<{ rolname: string; rolconnlimit: number; rolconfig: string[] | null }>(
      "SELECT rolname, rolconnlimit, rolconfig FROM pg_roles WHERE rolname IN ('dave_k', 'svc_prod', 'svc_ci', 'prod_writer') ORDER BY rolname",
    );
    expect(roles.rows).toEqual([
      { rolname: "dave_k", rolconnlimit: 5, rolconfig: ["statement_timeout=300000"] },
      { rolname: "prod_writer", rolconnlimit: -1, rolconfig: null },
      { rolname: "svc_ci", rolconnlimit: -1, rolconfig: ["search_path=pg_catalog", "role=ci_builder"] },
      { rolname: "svc_prod", rolconnlimit: -1, rolconfig: ["search_path=pg_catalog", "role=prod_writer"] },
    ]);
  });
});
