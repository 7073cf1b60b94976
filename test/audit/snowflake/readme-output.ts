import { auditSnowflakeLive } from "../../../infra/audit/snowflake/audit";
import { renderSnowflakeLiveAudit, snowflakeLiveAuditReport } from "../../../infra/audit/snowflake/report";
import { sessionOf } from "../../../infra/audit/snowflake/session";
import type { Boundary } from "../../../infra/boundary/model";
import type { DeclaredResource } from "../../../infra/platforms/declare";
import { snowflakeName } from "../../../infra/roster/naming";
import { FakeSnowflakeAccount } from "./fake-account";

// The accounts the live audit's tests and the README's `audit --live snowflake` output come from: the deployed shipped
// roster (prod tables made by PROD_WRITER), then the same after someone hand-granted a few things.

export function deployedAccount(boundary: Boundary, resources: readonly DeclaredResource[], provisioner: string): FakeSnowflakeAccount {
  const database = "ANALYTICS";
  const account = new FakeSnowflakeAccount(database).apply(resources, provisioner);
  // The README's provisioner SQL on the database SYSADMIN owns, and its role granted to the provisioner's user alone.
  for (const privilege of ["USAGE", "CREATE SCHEMA"])
    account.grants.push({ privilege, grantedOn: "DATABASE", name: database, catalog: null, schema: null, grantedTo: "ROLE", grantee: provisioner });
  account.grantRole(provisioner, "USER", "PULUMI_PROVISIONER").grantRole("ACCOUNTADMIN", "USER", "ADMIN_JANE");
  account.users.push(
    { name: "PULUMI_PROVISIONER", type: "SERVICE", defaultRole: provisioner, defaultSecondaryRoles: "NONE" },
    { name: "ADMIN_JANE", type: "PERSON", defaultRole: "ACCOUNTADMIN", defaultSecondaryRoles: "ALL" },
  );
  for (const p of boundary.principals.filter((p) => p.kind === "developer"))
    account.users.push({ name: p.logins.snowflake, type: "PERSON", defaultSecondaryRoles: "ALL" });
  for (const s of boundary.schemas.filter((s) => s.kind === "prod"))
    account.createTable(snowflakeName(s.name), "ORDERS", "PROD_WRITER").createTable(snowflakeName(s.name), "CUSTOMERS", "PROD_WRITER");
  return account;
}

/** Hand-made write paths: a developer holding PROD_WRITER, a schema-level future INSERT, a reader with DELETE. */
export function driftedAccount(boundary: Boundary, resources: readonly DeclaredResource[], provisioner: string): FakeSnowflakeAccount {
  const account = deployedAccount(boundary, resources, provisioner);
  account.grantRole("PROD_WRITER", "USER", "BOB");
  account.futureGrants.push({ database: "ANALYTICS", schema: "PROD_SALES", privilege: "INSERT", grantOn: "TABLE", grantTo: "ROLE", grantee: "DEV_ALICE" });
  account.grants.push({ privilege: "DELETE", grantedOn: "TABLE", name: "ORDERS", catalog: "ANALYTICS", schema: "PROD_FINANCE", grantedTo: "ROLE", grantee: "PROD_FINANCE_READER" });
  return account;
}

export async function renderedAudit(account: FakeSnowflakeAccount, boundary: Boundary, provisioner: string): Promise<string> {
  const audit = await auditSnowflakeLive(sessionOf(account.connection()), boundary, "ANALYTICS", { adminRole: provisioner, provisionerRole: provisioner });
  return renderSnowflakeLiveAudit(snowflakeLiveAuditReport(audit, []));
}
