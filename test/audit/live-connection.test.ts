import { describe, expect, it } from "vitest";
import { LiveConnectionError, maskConnectionString, parseLiveUrl, redactSecrets } from "../../infra/audit/connection";

// Connection strings carry passwords: a live command shows only what pg's own parser found, and refuses the strings in
// which a password would be read as a host or a path.

describe("parseLiveUrl", () => {
  it.each([
    ["postgres://auditor:s3cret@db.example:5432/analytics", "postgres://auditor:***@db.example:5432/analytics"],
    ["postgresql://auditor:p%40ss%3Aword@db.example/analytics?sslmode=require", "postgresql://auditor:***@db.example/analytics?sslmode=require"],
    ["postgres://auditor@db.example/analytics", "postgres://auditor@db.example/analytics"],
    ["postgres://db.example/analytics", "postgres://db.example/analytics"],
    ["postgres://auditor@db.example/analytics?password=s3cret&sslmode=require", "postgres://auditor@db.example/analytics?password=***&sslmode=require"],
    // An @ in the password is unambiguous while no / ? # follows it: the last @ ends the user part, as pg reads it.
    ["postgres://alice:p@ss:w@db.example/analytics", "postgres://alice:***@db.example/analytics"],
  ])("shows %s as %s", (url, shown) => {
    expect(parseLiveUrl(url).shown).toBe(shown);
    expect(maskConnectionString(url)).toBe(shown);
  });

  it("gives pg the password as the URL means it, decoded", () => {
    expect(parseLiveUrl("postgres://alice:Tr0ub%40dor%2F3@db.example/analytics").config).toMatchObject({
      user: "alice", password: "Tr0ub@dor/3", host: "db.example", database: "analytics",
    });
  });

  it.each([
    ["", /--live needs a connection string, such as postgres:\/\/user@host:5432\/database/],
    ["not a url", /--live takes a URL that starts with postgres:\/\/ or postgresql:\/\//],
    ["host=db user=alice password=s3cret", /--live takes a URL that starts with postgres:\/\//],
    ["postgres://alice:Tr0ub@dor/3@db.example/analytics", /has an @ after its host.*percent-encode @ \/ \? # in a password \(%40 %2F %3F %23\)/],
    ["postgres://alice:p@ss:w/rd@db.example/analytics", /has an @ after its host/],
    ["postgres://alice:pa?ss@db.example/analytics", /has an @ after its host/],
    ["postgres://alice:pa#ss@db.example/analytics", /has an @ after its host/],
    ["postgres://alice:s3cret@/analytics", /names no host/],
    ["postgres://alice:p@ss@db.example:99999/analytics", /the port must be a number from 1 to 65535/],
  ])("refuses %j in words, echoing none of it", (url, message) => {
    expect(() => parseLiveUrl(url)).toThrow(LiveConnectionError);
    expect(() => parseLiveUrl(url)).toThrow(message);
    let text = "";
    try {
      parseLiveUrl(url);
    } catch (error) {
      text = (error as Error).message;
    }
    for (const fragment of ["Tr0ub", "dor", "s3cret", "p@ss", "w/rd", "pa?ss", "pa#ss", "99999"]) expect(text).not.toContain(fragment);
    expect(maskConnectionString(url)).toBe("the given connection string");
  });
});

describe("redactSecrets", () => {
  const url = "postgres://auditor:p%40ss%3Aword@db.example/analytics";

  it("removes the password raw, percent-encoded and decoded", () => {
    const message = `could not connect with p@ss:word or p%40ss%3Aword to ${url}`;
    expect(redactSecrets(message, url)).toBe("could not connect with *** or *** to postgres://auditor:***@db.example/analytics");
  });

  it("removes a password given as a query parameter", () => {
    const withQuery = "postgres://auditor@db.example/analytics?password=qu%3Fery-pw";
    expect(redactSecrets("failed for qu?ery-pw at postgres://auditor@db.example/analytics?password=qu%3Fery-pw", withQuery)).toBe(
      "failed for *** at postgres://auditor@db.example/analytics?password=***",
    );
  });

  it("removes the whole of what the writer meant as the password, up to the last @", () => {
    expect(redactSecrets("lookup of dor failed; Tr0ub@dor/3 rejected", "postgres://alice:Tr0ub@dor/3@host/db")).toBe("lookup of dor failed; *** rejected");
  });

  it("leaves ordinary words alone when the password is shorter than three characters", () => {
    expect(redactSecrets("password authentication failed", "postgres://a:pa@h/d")).toBe("password authentication failed");
  });
});
