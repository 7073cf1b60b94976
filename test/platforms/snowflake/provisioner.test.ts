import { describe, expect, it } from "vitest";
import { declareResources } from "../../../infra/platforms/declare";
import { provisionerSql } from "../../../infra/platforms/snowflake/provisioner";
import { readStackConfig } from "../../../infra/stack";
import { REPO_ROOT, readmeBlock, shippedBoundary, shippedSettings } from "../../support/shipped";

// The SQL an administrator runs for the provisioner's role comes from what the program declares: the README's copy
// is that SQL for the shipped stack, and other settings get their own names in it.

const settings = { ...shippedSettings(), platforms: ["snowflake" as const] };
const config = readStackConfig(`${REPO_ROOT}/Pulumi.prod.yaml`);
const identity = { role: String(config["snowflake:role"]), user: String(config["snowflake:user"]), warehouse: String(config["snowflake:warehouse"]) };
const sql = () => provisionerSql(declareResources(shippedBoundary(), settings), identity);

describe("the provisioner's SQL", () => {
  it("is the README's, for the shipped stack", () => {
    expect(readmeBlock("snowflake-provisioner-sql")).toEqual(sql());
  });

  it("grants on every warehouse, the database and the policy schema the resources use, with grant option where it grants on", () => {
    const lines = sql();
    for (const warehouse of Object.values(settings.snowflake!.warehouses))
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^GRANT USAGE ON WAREHOUSE ${warehouse} TO ROLE WAREHOUSE_PROVISIONER WITH GRANT OPTION;`)));
    expect(lines).toContainEqual(expect.stringMatching(/^GRANT USAGE ON WAREHOUSE PROVISIONER_WH TO ROLE WAREHOUSE_PROVISIONER;/));
    expect(lines).toContainEqual(expect.stringMatching(/^GRANT CREATE SCHEMA ON DATABASE ANALYTICS TO ROLE WAREHOUSE_PROVISIONER;/));
    expect(lines).toContainEqual(expect.stringMatching(/^GRANT CREATE AUTHENTICATION POLICY, CREATE PROCEDURE ON SCHEMA ANALYTICS\.GOVERNANCE TO ROLE WAREHOUSE_PROVISIONER;/));
    // Nothing on schemas the role creates, and never a system role's privileges.
    expect(lines.filter((l) => /ON SCHEMA ANALYTICS\.(PROD|DEV|ALICE|BOB)/.test(l))).toEqual([]);
    expect(lines.filter((l) => /MANAGE GRANTS|OWNERSHIP|TO ROLE SYSADMIN|TO ROLE ACCOUNTADMIN/.test(l))).toEqual([]);
  });

  it("follows the stack's settings: another developers' warehouse and policy schema are what it grants on", () => {
    const snowflake = { ...settings.snowflake!, warehouses: { ...settings.snowflake!.warehouses, developers: "ANALYST_WH" }, policySchema: "SECURITY" };
    const lines = provisionerSql(declareResources(shippedBoundary(), { ...settings, snowflake }), identity).join("\n");
    expect(lines).toMatch(/GRANT USAGE ON WAREHOUSE ANALYST_WH TO ROLE WAREHOUSE_PROVISIONER WITH GRANT OPTION;/);
    expect(lines).toMatch(/GRANT CREATE AUTHENTICATION POLICY, CREATE PROCEDURE ON SCHEMA ANALYTICS\.SECURITY TO ROLE/);
    expect(lines).not.toMatch(/DEV_WH|GOVERNANCE/);
  });

  it("refuses a resource type it has no rule for, instead of leaving its grant out", () => {
    const stray = { ...declareResources(shippedBoundary(), settings).find((r) => r.custom)!, type: "snowflake:index/warehouse:Warehouse", name: "etl" };
    expect(() => provisionerSql([stray], identity)).toThrow("snowflake:index/warehouse:Warehouse etl: no rule says what the provisioner's role needs to create it");
  });
});
