import { describe, expect, it } from "vitest";
import { maskConnectionString, redactSecrets } from "../../infra/audit/connection";

// Connection strings carry passwords; these are the only functions that decide what of them may be shown.

describe("maskConnectionString", () => {
  it.each([
    ["postgres://auditor:s3cret@db.example:5432/analytics", "postgres://auditor:***@db.example:5432/analytics"],
    ["postgresql://auditor:p%40ss%3Aword@db.example/analytics?sslmode=require", "postgresql://auditor:***@db.example/analytics?sslmode=require"],
    ["postgres://auditor@db.example/analytics", "postgres://auditor@db.example/analytics"],
    ["postgres://db.example/analytics", "postgres://db.example/analytics"],
    ["postgres://auditor@db.example/analytics?password=s3cret&sslmode=require", "postgres://auditor@db.example/analytics?password=***&sslmode=require"],
  ])("%s → %s", (url, masked) => {
    expect(maskConnectionString(url)).toBe(masked);
  });

  it("masks what it cannot parse by its shape", () => {
    expect(maskConnectionString("postgres://auditor:s3cret@[bad")).toBe("postgres://auditor:***@[bad");
    expect(maskConnectionString("host=db user=auditor password=s3cret")).toBe("host=db user=auditor password=***");
  });
});

describe("redactSecrets", () => {
  const url = "postgres://auditor:p%40ss%3Aword@db.example/analytics";

  it("removes the password raw, percent-encoded and decoded, and the whole URL's secret", () => {
    const message = `could not connect with p@ss:word or p%40ss%3Aword to ${url}`;
    expect(redactSecrets(message, url)).toBe("could not connect with *** or *** to postgres://auditor:***@db.example/analytics");
  });

  it("removes a password given as a query parameter", () => {
    const withQuery = "postgres://auditor@db.example/analytics?password=qu%3Fery-pw";
    expect(redactSecrets("failed for qu?ery-pw at postgres://auditor@db.example/analytics?password=qu%3Fery-pw", withQuery)).toBe(
      "failed for *** at postgres://auditor@db.example/analytics?password=***",
    );
  });

  it("leaves ordinary words alone when the password is very short", () => {
    expect(redactSecrets("password authentication failed", "postgres://a:pa@h/d")).toBe("password authentication failed");
  });
});
