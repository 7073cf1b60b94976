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
    expect(settings.postgres.loginAuthentication).toEqual({ method: "password" });
  });

  it("takes cloud IAM logins with rds_iam unless another role is named", () => {
    const iam = (value: unknown) => stackSettingsFromConfig({ ...shipped, "warehouse-access:postgres": { loginAuthentication: value } }, "Pulumi.prod.yaml").postgres.loginAuthentication;
    expect(iam({ method: "iam" })).toEqual({ method: "iam", role: "rds_iam" });
    expect(iam({ method: "iam", role: "azure_ad_user" })).toEqual({ method: "iam", role: "azure_ad_user" });
    expect(() => iam({ method: "iam", role: "pg_write_all_data" })).toThrow("warehouse-access:postgres.loginAuthentication.role: is PUBLIC, a predefined pg_ role or a role warehouse-access manages");
    expect(() => iam({ method: "iam", role: "prod_writer" })).toThrow("is PUBLIC, a predefined pg_ role or a role warehouse-access manages");
    expect(() => iam({ method: "password", password: "hunter2" })).toThrow('warehouse-access:postgres.loginAuthentication: Unrecognized key: "password"');
    expect(() => iam({ method: "kerberos" })).toThrow("must be { method: password } or { method: iam, role: rds_iam }");
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
