import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import { renderDiffMarkdown, resourceLines } from "../../infra/diff/markdown";
import { permissionDiff } from "../../infra/diff/permissions";
import { diffReport } from "../../infra/diff/report";
import { resourceChange, resourceDiff } from "../../infra/diff/resources";
import { declareResources } from "../../infra/platforms/declare";
import { checkBoundary } from "../../infra/boundary/rules";
import { loadRoster } from "../../infra/roster/load";
import type { Roster } from "../../infra/roster/types";
import { REPO_ROOT, shippedSettings } from "../support/shipped";

// diff's resource-level section: what `pulumi up` would create, update and delete for a roster change, per type.

const roster = loadRoster(path.join(REPO_ROOT, "team.yaml"));
const settings = shippedSettings();
const declared = declareResources(buildBoundary(roster), settings).length;
const change = (after: Roster, afterSettings = settings) =>
  resourceChange({ boundary: buildBoundary(roster), settings }, { boundary: buildBoundary(after), settings: afterSettings });
const byType = (diff: ReturnType<typeof change>) => Object.fromEntries(diff.byType.map((t) => [`${t.platform} ${t.type}`, [t.creates, t.updates, t.deletes]]));

const frank = { name: "frank", email: "frank@acme.example", domains: ["sales"], snowflakeUser: "FRANK", postgresLogin: "frank" };

describe("the resources a roster change creates, updates and deletes", () => {
  it("is nothing when the roster is the same", () => {
    const same = change(roster);
    expect(same).toMatchObject({ creates: 0, updates: 0, deletes: 0, retained: 0, protected: 0, unchanged: declared, byType: [] });
  });

  it("creates a joining developer's role, login and schema on each platform, and nothing else changes", () => {
    const joined = change({ ...roster, developers: [...roster.developers, frank] });
    expect(byType(joined)).toEqual({
      "postgres warehouse-access:postgres:Developer": [1, 0, 0],
      "postgres postgresql.Role": [2, 0, 0],
      // dev_frank owns frank_sales: an owner needs no grant (only a restricted copy, the provisioner's, has one).
      "postgres postgresql.Schema": [1, 0, 0],
      "snowflake snowflake.AccountRole": [1, 0, 0],
      // Memberships frank → dev_frank → prod_reader, and dev_frank's roll-up to the provisioner's role.
      "snowflake snowflake.GrantAccountRole": [3, 0, 0],
      "snowflake snowflake.GrantPrivilegesToAccountRole": [1, 0, 0],
      "snowflake snowflake.Schema": [1, 0, 0],
      "snowflake snowflake.GrantOwnership": [1, 0, 0],
    });
    expect(joined).toMatchObject({ creates: 11, updates: 0, deletes: 0, unchanged: declared });
  });

  it("deletes a leaving developer's resources but counts their schemas (and a restricted copy's grant to their role) as retained: the data stays", () => {
    const left = change({ ...roster, developers: roster.developers.filter((d) => d.name !== "erin") });
    const erinsSchemas = buildBoundary(roster).schemas.filter((s) => s.developer === "erin");
    const copies = erinsSchemas.filter((s) => s.owner === null).length;
    expect(copies).toBeGreaterThan(0);
    // A schema on each platform, and for erin_finance (restricted) the PostgreSQL grant of USAGE and CREATE to dev_erin.
    expect(left.retained).toBe(2 * erinsSchemas.length + copies);
    expect(left).toMatchObject({ creates: 0, protected: 0 });
    expect(left.deletes).toBeGreaterThan(left.retained);
  });

  it("counts a removed domain's prod schemas as protected deletes, which stop `pulumi up`", () => {
    const removed = change({ ...roster, domains: roster.domains.filter((d) => d.name !== "marketing"),
      developers: roster.developers.map((d) => ({ ...d, domains: d.domains.filter((m) => m !== "marketing") })) });
    expect(removed.protected).toBe(2);
  });

  it("updates only the developers' logins when their statement timeout changes", () => {
    const slower = change(roster, { ...settings, postgres: { ...settings.postgres, developerStatementTimeoutMs: 600_000 } });
    expect(byType(slower)).toEqual({ "postgres postgresql.Role": [0, roster.developers.length, 0] });
  });

  it("is told under the permission change, in numbers a reviewer checks against `pulumi preview`", () => {
    const after = buildBoundary({ ...roster, developers: [...roster.developers, frank] });
    const diff = permissionDiff(buildBoundary(roster), after, { before: settings, after: settings });
    const resources = change({ ...roster, developers: [...roster.developers, frank] });
    const report = diffReport(diff, { base: "main", roster: "team.yaml", baseRoster: "main:team.yaml", stackConfig: "Pulumi.prod.yaml" }, checkBoundary(after), resources);
    expect(resourceLines(report)).toEqual([
      "### Resources `pulumi up` would change",
      "",
      `Creates 11 resources; ${declared} resources unchanged.`,
      "",
      "- PostgreSQL `postgresql.Role`: creates 2",
      "- PostgreSQL `postgresql.Schema`: creates 1",
      "- PostgreSQL `warehouse-access:postgres:Developer`: creates 1",
      "- Snowflake `snowflake.AccountRole`: creates 1",
      "- Snowflake `snowflake.GrantAccountRole`: creates 3",
      "- Snowflake `snowflake.GrantOwnership`: creates 1",
      "- Snowflake `snowflake.GrantPrivilegesToAccountRole`: creates 1",
      "- Snowflake `snowflake.Schema`: creates 1",
    ]);
    const markdown = renderDiffMarkdown(report);
    expect(markdown.indexOf("### People, service accounts and schemas")).toBeLessThan(markdown.indexOf("### Resources `pulumi up` would change"));
    expect(markdown.indexOf("### Resources `pulumi up` would change")).toBeLessThan(markdown.indexOf("**Summary:**"));
  });

  it("says how many deletes keep their data", () => {
    const left = change({ ...roster, developers: roster.developers.filter((d) => d.name !== "dave") });
    const after = buildBoundary({ ...roster, developers: roster.developers.filter((d) => d.name !== "dave") });
    const report = diffReport(permissionDiff(buildBoundary(roster), after, { before: settings, after: settings }),
      { base: "main", roster: "team.yaml", baseRoster: "main:team.yaml", stackConfig: "Pulumi.prod.yaml" }, checkBoundary(after), left);
    expect(resourceLines(report)[2]).toBe(`Deletes ${left.deletes} resources (of the deletes, 2 retained: Pulumi forgets them, the data stays); ${left.unchanged} resources unchanged.`);
  });

  it("shows a resource change even when nobody's access changes, and stays silent when nothing changes", () => {
    const slower = { ...settings, postgres: { ...settings.postgres, developerStatementTimeoutMs: 600_000 } };
    const compared = { base: "main", roster: "team.yaml", baseRoster: "main:team.yaml", stackConfig: "Pulumi.prod.yaml" };
    const render = (afterSettings: typeof settings) => renderDiffMarkdown(diffReport(
      permissionDiff(buildBoundary(roster), buildBoundary(roster), { before: settings, after: afterSettings }), compared, [], change(roster, afterSettings)));
    expect(render(slower)).toContain("No permission changes");
    expect(render(slower)).toContain(`Updates ${roster.developers.length} resources; ${declared - roster.developers.length} resources unchanged.`);
    expect(render(settings)).not.toContain("### Resources");
  });
});

describe("a stack deployed before prod_writer owned the prod schemas", () => {
  it("sees each PostgreSQL prod schema updated in place (owner), nothing created, deleted or replaced by a new name", () => {
    const now = declareResources(buildBoundary(roster), settings);
    // What the program declared then: prod schemas without an owner (the provisioner's).
    const before = now.map((r) => (r.type === "postgresql:index/schema:Schema" && String(r.inputs.name).startsWith("prod_")
      ? { ...r, inputs: Object.fromEntries(Object.entries(r.inputs).filter(([k]) => k !== "owner")) } : r));
    const diff = resourceDiff(before, now);
    expect(diff).toMatchObject({ creates: 0, updates: 4, deletes: 0, unchanged: now.length - 4 });
    expect(diff.byType).toEqual([{ platform: "postgres", type: "postgresql.Schema", creates: 0, updates: 4, deletes: 0 }]);
  });
});
