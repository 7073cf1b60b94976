import { describe, expect, it } from "vitest";
import { connectSnowflake, redactKey, snowflakeTarget } from "../../../infra/audit/snowflake/session";
import { runCommand } from "../../support/commands";

// Where the audit connects and with what key: the provider's variables first, the stack's keys second; the key never shows.

const PEM = ["-----BEGIN PRIVATE KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", "VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDu", "-----END PRIVATE KEY-----"].join("\n");

describe("the Snowflake target", () => {
  it("comes from the stack's organization and account names, overridden by SNOWFLAKE_*", () => {
    const config = { "snowflake:organizationName": "acme", "snowflake:accountName": "analytics", "snowflake:user": "PULUMI_PROVISIONER", "snowflake:role": "WAREHOUSE_PROVISIONER", "snowflake:warehouse": "ADMIN_WH" };
    expect(snowflakeTarget({}, config)).toEqual({ account: "acme-analytics", user: "PULUMI_PROVISIONER", role: "WAREHOUSE_PROVISIONER", warehouse: "ADMIN_WH" });
    expect(snowflakeTarget({ SNOWFLAKE_USER: "AUDITOR", SNOWFLAKE_ROLE: "AUDITOR" }, config)).toMatchObject({ user: "AUDITOR", role: "AUDITOR" });
  });

  it("names what is missing", () => {
    expect(() => snowflakeTarget({}, { "snowflake:user": "X" })).toThrow(/no Snowflake account: set snowflake:organizationName and snowflake:accountName/);
    expect(() => snowflakeTarget({ SNOWFLAKE_ACCOUNT: "acme-analytics" }, {})).toThrow(/no Snowflake user/);
  });
});

describe("the key pair", () => {
  it("is required, and says which variables carry it", async () => {
    await expect(connectSnowflake({ account: "acme-analytics", user: "AUDITOR" }, {}, "test")).rejects.toThrow(/no private key: set SNOWFLAKE_PRIVATE_KEY \(PEM\) or SNOWFLAKE_PRIVATE_KEY_PATH/);
  });

  it("is never printed: the whole key, any line of it and the passphrase are masked", () => {
    const line = PEM.split("\n")[1]!;
    const text = `JWT failed for key ${PEM}; line ${line}; passphrase hunter22`;
    const masked = redactKey(text, { privateKey: PEM, passphrase: "hunter22" });
    expect(masked).not.toContain(line);
    expect(masked).not.toContain("hunter22");
    expect(masked).toContain("***");
  });
});

describe("npm run audit -- --live snowflake", () => {
  it("exits 2 with one line when the key pair is missing", async () => {
    const run = await runCommand("audit", ["--live", "snowflake"], { env: { SNOWFLAKE_PRIVATE_KEY: "", SNOWFLAKE_PRIVATE_KEY_PATH: "" } });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("audit --live snowflake: no private key: set SNOWFLAKE_PRIVATE_KEY (PEM) or SNOWFLAKE_PRIVATE_KEY_PATH, and SNOWFLAKE_PRIVATE_KEY_PASSPHRASE if it is encrypted\n");
  });
});
