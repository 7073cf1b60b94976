import { describe, expect, it } from "vitest";
import { deployableStackSettings, readStackConfig, stackSettingsFromConfig } from "../infra/stack";
import { REPO_ROOT } from "./support/shipped";

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
    expect(settings.snowflake).toMatchObject({ adminRole: "WAREHOUSE_PROVISIONER", policySchema: "GOVERNANCE" });
    expect(settings.postgres.loginAuthentication).toEqual({ method: "password" });
  });

  it("refuses a developer connection limit no dbt run fits in", () => {
    const limit = (value: unknown) => stackSettingsFromConfig({ ...shipped, "warehouse-access:postgres": { developerConnectionLimit: value } }, "Pulumi.prod.yaml").postgres.developerConnectionLimit;
    expect(limit(2)).toBe(2);
    expect(() => limit(1)).toThrow("warehouse-access:postgres.developerConnectionLimit: is below 2: dbt holds one connection per thread plus one of its own");
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

describe("stack settings a real pulumi up deploys with", () => {
  const deployable = {
    ...shipped,
    "warehouse-access:snowflake": { ...shipped["warehouse-access:snowflake"], adminRole: "WAREHOUSE_PROVISIONER" },
    "snowflake:role": "WAREHOUSE_PROVISIONER",
    "snowflake:warehouse": "PROVISIONER_WH",
  };

  it("accepts a provisioner role that is also the admin role, with a warehouse", () => {
    expect(deployableStackSettings(deployable, "Pulumi.prod.yaml").snowflake?.adminRole).toBe("WAREHOUSE_PROVISIONER");
  });

  it("accepts the shipped Pulumi.prod.yaml", () => {
    expect(() => deployableStackSettings(readStackConfig(`${REPO_ROOT}/Pulumi.prod.yaml`), "Pulumi.prod.yaml")).not.toThrow();
  });

  it.each([
    ["an admin role other than the provider's role", { ...deployable, "snowflake:role": "SYSADMIN" },
      'Pulumi.prod.yaml: snowflake:role: is "SYSADMIN", but warehouse-access:snowflake.adminRole is "WAREHOUSE_PROVISIONER"; objects the stack creates are owned by snowflake:role, and CREATE_CI_SCHEMA and ownership hand-backs work only when the roles roll up to that role. Set adminRole: SYSADMIN'],
    ["no provider role", { ...deployable, "snowflake:role": undefined }, "Pulumi.prod.yaml: snowflake:role: is not set"],
    ["no provider warehouse", { ...deployable, "snowflake:warehouse": undefined }, "Pulumi.prod.yaml: snowflake:warehouse: is not set; the provider reads authentication-policy attachments through INFORMATION_SCHEMA.POLICY_REFERENCES"],
  ])("refuses %s", (_, config, message) => {
    expect(() => deployableStackSettings(config, "Pulumi.prod.yaml")).toThrow(message);
  });

  it.each(["SYSADMIN", "ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "ORGADMIN"])("refuses %s as the provisioner's role: the roll-ups would make each holder a prod writer", (role) => {
    const config = { ...deployable, "warehouse-access:snowflake": { ...deployable["warehouse-access:snowflake"], adminRole: role }, "snowflake:role": role };
    expect(() => deployableStackSettings(config, "Pulumi.prod.yaml")).toThrow(
      `Pulumi.prod.yaml: warehouse-access:snowflake.adminRole: is ${role}, a Snowflake system role: every role that writes rolls up to adminRole, so each ${role} holder would write prod, and the provisioner's rights (CREATE USER, APPLY AUTHENTICATION POLICY) would widen it. Create the provisioner's own role with the SQL in README "Deploying" and set adminRole and snowflake:role to it, e.g. WAREHOUSE_PROVISIONER`);
  });

  it("lets a preview run as its own read-only role (review.yml overrides snowflake:role); a deploy may not", () => {
    const preview = { ...deployable, "snowflake:role": "PREVIEW_READER" };
    expect(() => deployableStackSettings(preview, "Pulumi.prod.yaml", { deploying: false })).not.toThrow();
    expect(() => deployableStackSettings(preview, "Pulumi.prod.yaml", { deploying: true })).toThrow(/snowflake:role: is "PREVIEW_READER"/);
    expect(() => deployableStackSettings({ ...preview, "snowflake:warehouse": undefined }, "Pulumi.prod.yaml", { deploying: false })).toThrow(/snowflake:warehouse: is not set/);
  });

  it("leaves PostgreSQL-only stacks and past revisions (stackSettingsFromConfig) to the checks they had", () => {
    expect(() => deployableStackSettings({ ...shipped, "warehouse-access:platforms": ["postgres"] }, "Pulumi.prod.yaml")).not.toThrow();
    expect(() => stackSettingsFromConfig(shipped, "Pulumi.prod.yaml")).not.toThrow();
    // A revision that still ran as SYSADMIN is read, so the pull request that moves it off SYSADMIN can be reviewed.
    expect(stackSettingsFromConfig(withSnowflake({ adminRole: "SYSADMIN" }), "Pulumi.prod.yaml").snowflake?.adminRole).toBe("SYSADMIN");
  });
});
