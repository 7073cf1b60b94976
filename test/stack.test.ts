import { describe, expect, it } from "vitest";
import { stackSettingsFromConfig } from "../infra/stack";

// The stack config says where, never who: settings that would widen who writes prod are refused before anything runs.

const shipped = {
  "warehouse-access:platforms": ["postgres", "snowflake"],
  "warehouse-access:database": "analytics",
  "warehouse-access:snowflake": { warehouses: { developers: "DEV_WH", ci: "CI_WH", prod: "PROD_WH" } },
  "postgresql:database": "analytics",
  "postgresql:username": "provisioner",
};
const withSnowflake = (extra: Record<string, string>) => ({
  ...shipped,
  "warehouse-access:snowflake": { ...shipped["warehouse-access:snowflake"], ...extra },
});

describe("stack settings", () => {
  it("reads the shipped shape, with the provisioner taken from the provider's login", () => {
    const settings = stackSettingsFromConfig(shipped, "Pulumi.prod.yaml");
    expect(settings.postgres.provisioner).toBe("provisioner");
    expect(settings.snowflake).toMatchObject({ adminRole: "SYSADMIN", policySchema: "GOVERNANCE" });
  });

  it.each([
    ["an admin role everyone holds", withSnowflake({ adminRole: "PUBLIC" }), "Pulumi.prod.yaml: warehouse-access:snowflake.adminRole: is PUBLIC or a role warehouse-access manages"],
    ["the readers' role as admin role", withSnowflake({ adminRole: "PROD_READER" }), "warehouse-access:snowflake.adminRole: is PUBLIC or a role warehouse-access manages"],
    ["a developer's role as admin role", withSnowflake({ adminRole: "DEV_ALICE" }), "warehouse-access:snowflake.adminRole: is PUBLIC or a role warehouse-access manages"],
    ["the CI role as admin role", withSnowflake({ adminRole: "CI_BUILDER" }), "warehouse-access:snowflake.adminRole: is PUBLIC or a role warehouse-access manages"],
    ["a prod schema for the policies", withSnowflake({ policySchema: "PROD_SALES" }), "warehouse-access:snowflake.policySchema: must not be a prod_ or ci_ schema name"],
    ["a provider connected to another database", { ...shipped, "postgresql:database": "postgres" }, "postgresql:database: is \"postgres\", but the warehouse database is \"analytics\""],
    ["a provider with no database", { ...shipped, "postgresql:database": undefined }, "postgresql:database: is not set"],
  ])("refuses %s", (_, config, message) => {
    expect(() => stackSettingsFromConfig(config, "Pulumi.prod.yaml")).toThrow(message);
  });
});
