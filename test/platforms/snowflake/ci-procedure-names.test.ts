import { describe, expect, it } from "vitest";
import { createCiSchemaBody } from "../../../infra/platforms/snowflake/ci-schemas";

// CREATE_CI_SCHEMA runs with its owner's rights. Snowflake resolves an unqualified object in DDL and DML through the
// caller's current database and schema (docs: "Object name resolution"), so every object the body names carries its
// database; the unqualified names left are Snowflake's built-in functions, which a UDF of the same name cannot shadow
// unless called qualified, and Snowflake has no user-defined types or operators to plant.

const body = createCiSchemaBody({
  database: "ANALYTICS", creator: "CI_BUILDER", owner: "SYSADMIN", marker: "warehouse-access:created=", domains: ["SALES"], restricted: ["FINANCE"], copies: ["HR"],
});
const BUILT_INS = new Set(["UPPER", "REGEXP_LIKE", "LENGTH", "TO_VARCHAR", "SYSDATE", "COUNT", "MAX", "ARRAY_CONTAINS", "ARRAY_CONSTRUCT", "STARTSWITH"]);
const KEYWORDS = new Set(["IF", "ELSEIF", "EXCEPTION", "NOT", "AND"]);

describe("CREATE_CI_SCHEMA's body", () => {
  it("names every table and schema with its database", () => {
    const references = [...body.matchAll(/\b(?:FROM|SCHEMA(?! IF)|ON SCHEMA|INTO TABLE)\s+([^\s;(]+)/g)].map((m) => m[1]!);
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) expect(reference).toMatch(/^"ANALYTICS"\./);
  });

  it("calls no function but Snowflake's built-ins unqualified", () => {
    const code = body.replace(/'(?:[^']|'')*'/g, "''");
    const calls = [...code.matchAll(/\b([A-Z_][A-Z0-9_]*)\s*\(/g)].map((m) => m[1]!);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((name) => !BUILT_INS.has(name) && !KEYWORDS.has(name))).toEqual([]);
  });
});
