import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEVELOPER_NAME, DOMAIN_NAME, POSTGRES_LOGIN, RESERVED_NAMES, SERVICE_ACCOUNT_NAME } from "../../infra/roster/naming";
import { rosterJsonSchema, rosterJsonSchemaText } from "../../infra/roster/schema";

// team.schema.json is generated from the zod schema and checked in, so editors validate team.yaml.

const ROOT = join(__dirname, "..", "..");
const MODELINE = "# yaml-language-server: $schema=./team.schema.json";

type JsonSchema = { properties: Record<string, { items: { properties: Record<string, Record<string, unknown>>; required: string[] } }> };
const entry = (section: string) => (rosterJsonSchema() as unknown as JsonSchema).properties[section]!.items;

describe("team.schema.json", () => {
  it("is up to date with the zod schema", () => {
    const checkedIn = readFileSync(join(ROOT, "team.schema.json"), "utf8");
    expect(checkedIn, "team.schema.json is stale: run `npm run schema` and commit the result").toBe(rosterJsonSchemaText());
  });

  it("is pretty-printed JSON ending in a newline", () => {
    const text = rosterJsonSchemaText();
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
  });

  it("carries the naming rules' patterns", () => {
    expect(entry("domains").properties.name!.pattern).toBe(DOMAIN_NAME.source);
    expect(entry("developers").properties.name!.pattern).toBe(DEVELOPER_NAME.source);
    expect(entry("developers").properties.postgres_login!.pattern).toBe(POSTGRES_LOGIN.source);
    expect(entry("service_accounts").properties.name!.pattern).toBe(SERVICE_ACCOUNT_NAME.source);
  });

  it("rules out the reserved names an editor could otherwise accept", () => {
    const developerName = entry("developers").properties.name!;
    expect(developerName.not).toEqual({ enum: [...RESERVED_NAMES].filter((name) => DEVELOPER_NAME.test(name)).sort() });
    expect((developerName.not as { enum: string[] }).enum).toEqual(expect.arrayContaining(["prod", "ci", "public", "pg", "dev"]));
    expect(entry("service_accounts").properties.name!.not).toEqual({
      anyOf: [{ enum: [...RESERVED_NAMES].sort() }, { pattern: "^pg_" }],
    });
  });

  it("requires what the roster requires and nothing else", () => {
    expect(entry("domains").required).toEqual(["name"]);
    expect(entry("developers").required).toEqual(["name", "email"]);
    expect(entry("service_accounts").required).toEqual(["name", "purpose"]);
  });
});

describe("the shipped team.yaml", () => {
  it("starts with the yaml-language-server modeline pointing at team.schema.json", () => {
    const firstLine = readFileSync(join(ROOT, "team.yaml"), "utf8").split("\n")[0];
    expect(firstLine, `team.yaml's first line must be exactly: ${MODELINE}`).toBe(MODELINE);
  });
});
