import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRoster } from "../../infra/roster/load";
import { formatProblem } from "../../infra/roster/problems";
import { rosterYaml, validRoster, validRosterCase, validRosterFile } from "../support/arbitraries";
import { shuffled, shuffleSeed } from "../support/shuffle";

// The roster arbitraries keep their promise: every roster they make is one the validator accepts, it means what
// the file says, and over many draws they cover every shape of roster DESIGN.md allows.

describe("validRosterFile", () => {
  it("makes only rosters that parseRoster accepts", () => {
    fc.assert(
      fc.property(validRosterFile(), (file) => {
        const result = parseRoster(rosterYaml(file), "generated.yaml");
        expect(result.problems?.map(formatProblem) ?? []).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("makes rosters that parse to what the file says, with the documented defaults where a key is left out", () => {
    fc.assert(
      fc.property(validRosterCase(), ({ file, roster }) => {
        expect(roster.domains.map((d) => d.name)).toEqual(file.domains.map((d) => d.name));
        expect(roster.developers.map((d) => d.name)).toEqual(file.developers.map((d) => d.name));
        expect(roster.serviceAccounts.map((a) => [a.name, a.purpose])).toEqual(file.service_accounts.map((a) => [a.name, a.purpose]));
        const restrictedTo = new Map(file.domains.filter((d) => d.restricted === true).map((d) => [d.name, d.readers ?? []]));
        for (const [i, dev] of file.developers.entries()) {
          const parsed = roster.developers[i]!;
          const readable = file.domains.filter((d) => !restrictedTo.has(d.name) || restrictedTo.get(d.name)!.includes(dev.name)).map((d) => d.name);
          expect(parsed.domains).toEqual(dev.domains ?? readable);
          for (const domain of parsed.domains) expect(readable).toContain(domain);
          expect(parsed.postgresLogin).toBe(dev.postgres_login ?? dev.name);
          expect(parsed.snowflakeUser).toBe(dev.snowflake_user ?? dev.name.toUpperCase());
        }
        expect(roster.serviceAccounts.some((a) => a.purpose === "prod")).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("respects the size limits it is given", () => {
    fc.assert(
      fc.property(validRosterFile({ maxDevelopers: 2, maxDomains: 1, maxServiceAccounts: 1 }), (file) => {
        expect(file.developers.length).toBeGreaterThanOrEqual(1);
        expect(file.developers.length).toBeLessThanOrEqual(2);
        expect(file.domains).toHaveLength(1);
        expect(file.service_accounts).toEqual([expect.objectContaining({ purpose: "prod" })]);
      }),
      { numRuns: 100 },
    );
    expect(() => validRosterFile({ maxDevelopers: 0 })).toThrow(RangeError);
  });

  it("covers every shape of roster: sizes, restricted domains, defaults, overrides, keys, CI or none", () => {
    const files = fc.sample(validRosterFile(), { numRuns: 400, seed: 42 });
    const share = (test: (f: (typeof files)[number]) => boolean) => files.filter(test).length / files.length;
    const seen = {
      "one developer": share((f) => f.developers.length === 1),
      "six developers": share((f) => f.developers.length === 6),
      "one domain": share((f) => f.domains.length === 1),
      "five domains": share((f) => f.domains.length === 5),
      "a restricted domain with readers": share((f) => f.domains.some((d) => d.restricted === true && (d.readers ?? []).length > 0)),
      "a restricted domain without readers": share((f) => f.domains.some((d) => d.restricted === true && (d.readers ?? []).length === 0)),
      "restricted: false spelled out": share((f) => f.domains.some((d) => d.restricted === false)),
      "a description": share((f) => f.domains.some((d) => d.description !== undefined)),
      "a developer with defaulted domains": share((f) => f.developers.some((d) => d.domains === undefined)),
      "a developer listing a restricted domain": share((f) =>
        f.developers.some((d) => (d.domains ?? []).some((name) => f.domains.find((x) => x.name === name)?.restricted === true)),
      ),
      "a developer with an empty domains list": share((f) => f.developers.some((d) => d.domains?.length === 0)),
      "a postgres_login override": share((f) => f.developers.some((d) => d.postgres_login !== undefined)),
      "a snowflake_user override": share((f) => f.developers.some((d) => d.snowflake_user !== undefined)),
      "two prod accounts": share((f) => f.service_accounts.filter((a) => a.purpose === "prod").length >= 2),
      "no CI account": share((f) => f.service_accounts.every((a) => a.purpose === "prod")),
      "a CI account": share((f) => f.service_accounts.some((a) => a.purpose === "ci")),
      "an RSA key": share((f) => f.service_accounts.some((a) => a.rsa_public_key !== undefined)),
      "a PEM-armoured RSA key": share((f) => f.service_accounts.some((a) => a.rsa_public_key?.startsWith("-----BEGIN") === true)),
    };
    for (const [shape, fraction] of Object.entries(seen)) expect({ shape, fraction }).toEqual({ shape, fraction: expect.toSatisfy((x: number) => x >= 0.02) });
  });
});

describe("validRoster", () => {
  it("is the parsed roster itself, so a property over it runs on exactly what buildBoundary receives", () => {
    fc.assert(
      fc.property(validRoster({ maxDevelopers: 3 }), (roster) => {
        expect(roster.developers.length).toBeGreaterThanOrEqual(1);
        expect(roster.developers.length).toBeLessThanOrEqual(3);
        expect(roster.serviceAccounts.some((a) => a.purpose === "prod")).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe("shuffled", () => {
  it("reorders lists and keys but keeps every entry", () => {
    fc.assert(
      fc.property(validRosterFile(), shuffleSeed, (file, seed) => {
        const reordered = shuffled(file, seed);
        const canonical = (value: unknown): unknown =>
          Array.isArray(value) ? value.map(canonical).map((x) => JSON.stringify(x)).sort()
            : value !== null && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, x]) => [k, canonical(x)]).sort())
              : value;
        expect(canonical(reordered)).toEqual(canonical(file));
      }),
      { numRuns: 200 },
    );
  });

  it("does reorder: some seed moves the developers of a roster of several", () => {
    const file = fc.sample(validRosterFile(), { numRuns: 50, seed: 1 }).find((f) => f.developers.length >= 3)!;
    const orders = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((seed) => shuffled(file, seed).developers.map((d) => d.name).join()));
    expect(orders.size).toBeGreaterThan(1);
  });
});
