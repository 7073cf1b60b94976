import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import type { Boundary, Role, Schema } from "../../infra/boundary/model";
import {
  CI_BUILDER, DEVELOPER_NAME, DOMAIN_NAME, POSTGRES_NAME_LIMIT, PROD_READER, PROD_WRITER, snowflakeName,
} from "../../infra/roster/naming";
import { parseRosterFile, validRoster, validRosterFile } from "../support/arbitraries";
import { shuffled, shuffleSeed } from "../support/shuffle";

// The naming contract and determinism of the boundary, over random valid rosters (DESIGN.md, "Naming").

const RUNS = { numRuns: 500 };
const rosters = validRoster();

const bytes = (name: string) => Buffer.byteLength(name, "utf8");
const repeated = (names: string[]) => names.filter((name, i) => names.indexOf(name) !== i);

/** The name the contract gives a role, or undefined for a role the contract does not know. */
function contractRoleName(role: Role): string | undefined {
  switch (role.kind) {
    case "developer":
      return role.of !== undefined && DEVELOPER_NAME.test(role.of) ? `dev_${role.of}` : undefined;
    case "restricted_reader":
      return role.of !== undefined && DOMAIN_NAME.test(role.of) ? `prod_${role.of}_reader` : undefined;
    case "prod_reader":
      return PROD_READER;
    case "prod_writer":
      return PROD_WRITER;
    case "ci_builder":
      return CI_BUILDER;
  }
}

/** The name the contract gives a schema: prod_<domain>, or <dev>_<domain> with no underscore in <dev>. */
function contractSchemaName(schema: Schema): string | undefined {
  if (!DOMAIN_NAME.test(schema.domain)) return undefined;
  if (schema.kind === "prod") return `prod_${schema.domain}`;
  return schema.developer !== undefined && DEVELOPER_NAME.test(schema.developer) ? `${schema.developer}_${schema.domain}` : undefined;
}

/** On PostgreSQL, group roles and login roles share one namespace. */
const postgresRoles = (b: Boundary) => [...b.roles.map((r) => r.name), ...b.principals.map((p) => p.logins.postgres)];

describe("for every valid roster, the boundary's names", () => {
  it("are unique: roles and logins together, schemas, principals, and Snowflake's upper-case names and users", () => {
    fc.assert(
      fc.property(rosters, (roster) => {
        const b = buildBoundary(roster);
        expect(repeated(postgresRoles(b))).toEqual([]);
        expect(repeated(b.schemas.map((s) => s.name))).toEqual([]);
        expect(repeated(b.principals.map((p) => p.name))).toEqual([]);
        expect(repeated(b.roles.map((r) => snowflakeName(r.name)))).toEqual([]);
        expect(repeated(b.schemas.map((s) => snowflakeName(s.name)))).toEqual([]);
        expect(repeated(b.principals.map((p) => p.logins.snowflake.toUpperCase()))).toEqual([]);
      }),
      RUNS,
    );
  });

  it(`fit PostgreSQL's ${POSTGRES_NAME_LIMIT}-byte limit`, () => {
    fc.assert(
      fc.property(rosters, (roster) => {
        const b = buildBoundary(roster);
        const names = [...postgresRoles(b), ...b.schemas.map((s) => s.name)];
        expect(names.filter((name) => bytes(name) > POSTGRES_NAME_LIMIT)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("follow the naming contract, and a developer schema splits back into developer and domain at its first underscore", () => {
    fc.assert(
      fc.property(rosters, (roster) => {
        const b = buildBoundary(roster);
        expect(b.roles.filter((r) => contractRoleName(r) !== r.name)).toEqual([]);
        expect(b.schemas.filter((s) => contractSchemaName(s) !== s.name)).toEqual([]);
        const split = b.schemas
          .filter((s) => s.kind === "developer")
          .map((s) => [s.name.slice(0, s.name.indexOf("_")), s.name.slice(s.name.indexOf("_") + 1), s.developer, s.domain]);
        expect(split.filter(([dev, domain, developer, ofDomain]) => dev !== developer || domain !== ofDomain)).toEqual([]);
        expect(b.schemas.filter((s) => s.name.startsWith(b.ciSchemas.prefix))).toEqual([]);
        expect([
          b.roles.filter((r) => r.kind === "developer").length,
          b.roles.filter((r) => r.kind === "restricted_reader").length,
          b.schemas.filter((s) => s.kind === "prod").length,
        ]).toEqual([roster.developers.length, roster.domains.filter((d) => d.restricted).length, roster.domains.length]);
      }),
      RUNS,
    );
  });

  it("and everything else in the boundary are the same when every list and key of team.yaml is reordered", () => {
    fc.assert(
      fc.property(validRosterFile(), shuffleSeed, (file, seed) => {
        expect(buildBoundary(parseRosterFile(shuffled(file, seed)))).toEqual(buildBoundary(parseRosterFile(file)));
      }),
      RUNS,
    );
  });
});
