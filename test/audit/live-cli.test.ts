import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LiveAuditReport } from "../../infra/audit/live-report";
import { declareResources } from "../../infra/platforms/declare";
import { Sandbox, type Seeded } from "../../infra/sandbox/setup";
import { runCommand, type CommandResult } from "../support/commands";
import { shippedBoundary } from "../support/shipped";
import { sandboxSettings, shippedProvider } from "../sandbox/support";

// `npm run audit -- --live URL` as a CI job runs it: a child process on the sandbox, judged by exit code and output,
// and never showing a password, not even in pg's own errors.

// A PGPASSWORD in the caller's environment must not stand in for a password a URL leaves out.
const audit = (...args: string[]) => runCommand("audit", args, { env: { PGPASSWORD: "" } });

const boundary = shippedBoundary();
const settings = sandboxSettings();
let sandbox: Sandbox;
let seeded: Seeded;
let admin: pg.Client;
let secrets: string[];

beforeAll(async () => {
  const resources = declareResources(boundary, settings);
  sandbox = await Sandbox.start(settings.database, shippedProvider());
  await sandbox.up(resources);
  seeded = await sandbox.seed(boundary);
  admin = await sandbox.server.client(settings.database);
  secrets = [sandbox.server.password, ...seeded.logins.map((l) => l.password)];
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await sandbox?.stop();
});

const superuserUrl = () => sandbox.server.url(settings.database);
const loginUrl = (login: string) => sandbox.url(seeded.logins.find((l) => l.login === login)!);
const expectNoSecret = (run: CommandResult) => {
  for (const secret of secrets) expect(run.stdout + run.stderr).not.toContain(secret);
};

describe("audit --live", () => {
  it("exits 0 on the clean sandbox, naming the provisioner, with the password masked", async () => {
    const run = await audit("--live", superuserUrl(), "--provisioner", "provisioner");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`at postgresql://postgres:***@127.0.0.1:${sandbox.server.port}/analytics`);
    expect(run.stdout).toContain("Admin paths: provisioner (provisioner), postgres (bootstrap superuser).");
    expect(run.stdout).toContain("\nLive database analytics: no drift. ");
    expectNoSecret(run);
  });

  it("needs no privileges: a developer's login reads the same answer, as JSON", async () => {
    const run = await audit("--live", loginUrl("alice"), "--provisioner", "provisioner", "--json");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as LiveAuditReport;
    expect(report.source).toBe("live");
    expect(report.drift).toBe(0);
    expect(report.target).toMatch(/^postgresql:\/\/alice:\*\*\*@127\.0\.0\.1:\d+\/analytics$/);
    expect(report.schemas.map((s) => s.schema)).toEqual(["prod_finance", "prod_marketing", "prod_product", "prod_sales"]);
    expect(report.denyRules.holds).toBe(true);
    expectNoSecret(run);
  });

  it("exits 1 on drift and prints it", async () => {
    await admin.query("GRANT INSERT ON prod_sales.sample TO dev_alice");
    try {
      const run = await audit("--live", superuserUrl(), "--provisioner", "provisioner");
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(/DRIFT\s+alice\s+login\s+alice ─inherits→ dev_alice \(inherits it\)\s+INSERT on table sample/);
      expect(run.stdout).toContain("DRIFT: 2 write paths the boundary does not declare, for 2 roles on 1 prod schema: alice, dev_alice");
      expectNoSecret(run);
    } finally {
      await admin.query("REVOKE INSERT ON prod_sales.sample FROM dev_alice");
    }
  });

  it("without --provisioner, takes it from the stack config (postgresql:username), never from the role it connects as", async () => {
    const run = await audit("--live", superuserUrl(), "--json");
    const report = JSON.parse(run.stdout) as LiveAuditReport;
    expect(report.provisioner).toBe("provisioner");
    const admins = report.schemas[0]!.writers.filter((w) => w.status === "admin").map((w) => w.principal);
    expect(new Set(admins)).toEqual(new Set(["postgres", "provisioner"]));
    // With the wrong provisioner named, the real one (no superuser, as on a managed database, but the database's owner and
    // ADMIN of every role it made) is a writer nobody declared, and ci.create_schema a way to act as it.
    const wrong = JSON.parse((await audit("--live", superuserUrl(), "--json", "--provisioner", "postgres")).stdout) as LiveAuditReport;
    const drift = wrong.schemas[0]!.writers.filter((w) => w.status === "drift");
    expect(drift.filter((w) => w.principal === "provisioner").map((w) => w.power)).toEqual(expect.arrayContaining(["database owner"]));
    expect(drift).toContainEqual(expect.objectContaining({ principal: "svc_ci", chain: ["svc_ci", "ci_builder", "provisioner"], hops: ["inherits", "executes ci.create_schema(text,text)"] }));
  });

  it("exits 2 with the password masked when the server refuses the login", async () => {
    const wrong = "Wr0ng-s3cret%40pass";
    const url = superuserUrl().replace(`:${sandbox.server.password}@`, `:${wrong}@`);
    const run = await audit("--live", url);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^audit --live: cannot connect to postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/analytics: password authentication failed for user "postgres" \(28P01\)\n$/);
    expect(run.stderr).not.toContain("Wr0ng");
    expectNoSecret(run);
  });

  it("exits 2 when nothing listens there, and for --provisioner without --live", async () => {
    const closed = await audit("--live", "postgres://auditor:hunter2hunter2@127.0.0.1:1/analytics");
    expect(closed.status).toBe(2);
    expect(closed.stderr).toContain("postgres://auditor:***@127.0.0.1:1/analytics");
    expect(closed.stderr).not.toContain("hunter2");
    const alone = await audit("--provisioner", "provisioner");
    expect(alone.status).toBe(2);
    expect(alone.stderr).toBe("audit: --provisioner needs --live <url>\n");
  });

  it("exits 2 when the provisioner it is told of is no role of the server", async () => {
    const run = await audit("--live", superuserUrl(), "--provisioner", "deployer");
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe('audit --live: the provisioner "deployer" is not a role of the server holding analytics: pass the role that runs pulumi up with --provisioner, or fix postgresql:username in the stack config\n');
  });

  it("explains --live in --help", async () => {
    const help = await audit("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--live <url>");
    expect(help.stdout).toContain("--provisioner <role>");
    expect(help.stdout).toContain("DRIFT (exit 1)");
  });
});
