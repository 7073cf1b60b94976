import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import { declareResources, type DeclaredResource } from "../../infra/platforms/declare";
import { validRoster } from "../support/arbitraries";
import { shippedBoundary, shippedSettings } from "../support/shipped";
import { reportsFor } from "./harness";

// The program's own resources are the pack's first test: for every valid roster, no policy may object to them.

let shipped: DeclaredResource[];
beforeAll(async () => {
  shipped = declareResources(shippedBoundary(), shippedSettings());
});

describe("the policy pack on the resources the program registers", () => {
  it("reports nothing for the shipped roster, on both platforms", async () => {
    expect(new Set(shipped.map((r) => r.type.split(":")[0]))).toEqual(new Set(["warehouse-access", "postgresql", "snowflake"]));
    expect(await reportsFor(shipped)).toEqual([]);
  });

  it("reports nothing for random valid rosters", async () => {
    await fc.assert(
      fc.asyncProperty(validRoster({ maxDevelopers: 4, maxDomains: 3, maxServiceAccounts: 2 }), async (roster) => {
        const resources = declareResources(buildBoundary(roster), shippedSettings());
        expect(await reportsFor(resources)).toEqual([]);
      }),
      { numRuns: 20 },
    );
  });
});
