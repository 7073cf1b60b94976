import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Boundary } from "../../../infra/boundary/model";
import { declareResources } from "../../../infra/platforms/declare";
import { Sandbox } from "../../../infra/sandbox/setup";
import { authenticationRoles, type StackSettings } from "../../../infra/stack";
import { shippedBoundary } from "../../support/shipped";
import { sandboxSettings, shippedProvider } from "../../sandbox/support";

// How logins authenticate, applied on a real PostgreSQL as the provider would: with passwords set outside the tool no
// login gets one from `pulumi up`; with cloud IAM every login holds the IAM role (RDS's rds_iam, created here as RDS
// has it built in) and that role adds no access.

const boundary: Boundary = shippedBoundary();
const logins = boundary.principals.map((p) => p.logins.postgres).sort();
const withAuthentication = (loginAuthentication: StackSettings["postgres"]["loginAuthentication"]): StackSettings => {
  const settings = sandboxSettings();
  return { ...settings, postgres: { ...settings.postgres, loginAuthentication } };
};

async function applied(settings: StackSettings): Promise<Sandbox> {
  const sandbox = await Sandbox.start(settings.database, shippedProvider());
  for (const role of authenticationRoles(settings)) await sandbox.createPlatformRole(role);
  await sandbox.up(declareResources(boundary, settings));
  return sandbox;
}

describe.each([
  ["passwords set outside the tool", withAuthentication({ method: "password" }), []],
  ["cloud IAM", withAuthentication({ method: "iam", role: "rds_iam" }), ["rds_iam"]],
] as const)("with %s", (_name, settings, iamRoles) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await applied(settings);
  }, 180_000);
  afterAll(async () => {
    await sandbox?.stop();
  });

  it("gives no login a password", async () => {
    const admin = await sandbox.server.client(settings.database);
    try {
      const result = await admin.query<{ name: string; password: string | null }>("SELECT rolname AS name, rolpassword AS password FROM pg_authid WHERE rolname = ANY($1) ORDER BY 1", [logins]);
      expect(result.rows.map((r) => r.name)).toEqual(logins);
      expect(result.rows.filter((r) => r.password !== null)).toEqual([]);
    } finally {
      await admin.end();
    }
  });

  it(`makes every login a member of ${iamRoles.length === 0 ? "no IAM role" : iamRoles.join(", ")}, and the IAM role holds nothing`, async () => {
    const admin = await sandbox.server.client(settings.database);
    try {
      const members = await admin.query<{ role: string; login: string }>(
        "SELECT r.rolname AS role, m.rolname AS login FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member WHERE r.rolname = 'rds_iam' AND m.rolname <> 'provisioner' ORDER BY 2");
      expect(members.rows.map((r) => r.login)).toEqual(iamRoles.length === 0 ? [] : logins);
      for (const role of iamRoles) {
        const held = await admin.query(
          `SELECT 1 FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'public')
              AND (has_schema_privilege($1, n.oid, 'CREATE') OR has_schema_privilege($1, n.oid, 'USAGE'))`, [role]);
        expect(held.rowCount, `${role} holds schema privileges`).toBe(0);
      }
    } finally {
      await admin.end();
    }
  });
});
