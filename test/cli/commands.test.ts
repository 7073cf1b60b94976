import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { declaredWriters } from "../../infra/audit/declared";
import { buildBoundary } from "../../infra/boundary/build";
import { checkBoundary } from "../../infra/boundary/rules";
import { auditReport } from "../../infra/report/audit";
import { declareResources } from "../../infra/platforms/declare";
import { planReport } from "../../infra/report/plan";
import { managedResources } from "../../infra/report/resources";
import { runCommand } from "../support/commands";
import { shippedSettings } from "../support/shipped";
import { loadRoster, parseRoster } from "../../infra/roster/load";
import { formatProblem, RosterError } from "../../infra/roster/problems";

// The commands as a CI job runs them: a child process through sucrase, judged by exit code, stdout and stderr.

const ROOT = path.resolve(__dirname, "../..");
const scratch = mkdtempSync(path.join(tmpdir(), "warehouse-access-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const shipped = buildBoundary(loadRoster(path.join(ROOT, "team.yaml")));

// A roster with a typo'd section, a bad email and an unknown domain: every problem must come out, located.
const INVALID = `domains:
  - name: sales
developers:
  - name: alice
    email: alice-at-acme
    domains: [sales, finanse]
developpers: []
service_accounts:
  - name: svc_prod
    purpose: prod
`;

describe("plan and audit as child processes", () => {
  for (const command of ["plan", "audit"] as const) {
    it(`${command} --help explains the options and exit codes`, async () => {
      const help = await runCommand(command, ["--help"]);
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(`Usage: npm run ${command} -- [options]`);
      for (const option of ["--roster <path>", "--json", "-h, --help", "Exit codes:", "0  ok", "1  a deny rule is violated", "2  invalid input"])
        expect(help.stdout).toContain(option);
    });

    it(`${command} exits 0 on the shipped roster and says the deny rules hold`, async () => {
      const result = await runCommand(command);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout).toContain("Deny rules D1–D5: all hold\n");
    });

    it(`${command} exits 2 with every roster problem on stderr as FILE:LINE:COL, and prints nothing on stdout`, async () => {
      const file = path.join(scratch, `${command}-invalid.yaml`);
      writeFileSync(file, INVALID);
      const result = await runCommand(command, ["--roster", file]);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe("");
      const expected = parseRoster(INVALID, file).problems?.map(formatProblem) ?? [];
      expect(expected.length).toBeGreaterThanOrEqual(3);
      expect(result.stderr).toBe(`${expected.join("\n")}\n`);
      for (const line of result.stderr.trimEnd().split("\n")) expect(line.startsWith(`${file}:`)).toBe(true);
      expect(result.stderr).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:7:1: developpers: `, "m"));
      expect(result.stderr).toMatch(/:5:\d+: developers\[0\]\.email: /);
    });

    it(`${command} exits 2 for a roster file that does not exist`, async () => {
      const missing = path.join(scratch, "no-such-team.yaml");
      const result = await runCommand(command, ["--roster", missing]);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe("");
      let expected = "";
      try {
        loadRoster(missing);
      } catch (error) {
        expected = (error as RosterError).problems.map(formatProblem).join("\n");
      }
      expect(expected).toMatch(new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:1:1: `));
      expect(result.stderr).toBe(`${expected}\n`);
    });

    it(`${command} exits 2 for an unknown option`, async () => {
      const result = await runCommand(command, ["--rooster", "team.yaml"]);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("unknown option '--rooster'");
    });
  }

  it("plan --json prints the plan report object, every resource `pulumi up` would manage included", async () => {
    const result = await runCommand("plan", ["--json"]);
    expect(result.status).toBe(0);
    const resources = managedResources(declareResources(shipped, shippedSettings()), "Pulumi.prod.yaml", true);
    const printed = JSON.parse(result.stdout);
    expect(printed).toEqual(planReport(shipped, checkBoundary(shipped), resources, "team.yaml"));
    expect(printed.resources.list).toHaveLength(resources.list!.length);
    expect(resources.list!.length).toBe(resources.totals.postgres! + resources.totals.snowflake!);
    expect(printed.resources.list).toContainEqual(expect.objectContaining({
      platform: "postgres", type: "postgresql:index/schema:Schema", name: "prod_sales", protect: true, retainOnDelete: true,
      inputs: { name: "prod_sales", database: "analytics", owner: "prod_writer" },
    }));
  });

  it("plan --resources lists every resource after the counts, one line each", async () => {
    const result = await runCommand("plan", ["--resources"]);
    expect(result.status).toBe(0);
    const total = declareResources(shipped, shippedSettings()).length;
    expect(result.stdout).toContain(`Every resource \`pulumi up\` would manage (${total}; --json has every input and option)`);
    expect(result.stdout).toMatch(/^ {2}postgres +postgresql\.Schema +prod_sales +protected, retained +database=analytics name=prod_sales owner=prod_writer$/m);
    expect(result.stdout.split("\n").filter((line) => /^ {2}(postgres|snowflake) +\S+ +\S+ +\S/.test(line) && !/ total /.test(line))).toHaveLength(total);
  });

  it("audit --json prints the audit report object", async () => {
    const result = await runCommand("audit", ["--json", "--roster", "team.yaml"]);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(auditReport(declaredWriters(shipped), checkBoundary(shipped), "team.yaml"));
  });

  it("plan exits 2 and names the file when the stack configuration is not YAML", async () => {
    const file = path.join(scratch, "Pulumi.broken.yaml");
    writeFileSync(file, "config: [\n");
    const result = await runCommand("plan", ["--stack-config", file]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`${file}: is not valid YAML:`);
  });

  it("plan --roster reads another file", async () => {
    const file = path.join(scratch, "two-people.yaml");
    writeFileSync(file, `domains:
  - name: sales
developers:
  - name: ann
    email: ann@acme.example
  - name: ben
    email: ben@acme.example
service_accounts:
  - name: svc_prod
    purpose: prod
`);
    const result = await runCommand("plan", ["--roster", file]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Plan for ${file}: 2 developers, 1 service account, 1 prod schema`);
    expect(result.stdout).toContain("missing (add rsa_public_key)");
  });
});
