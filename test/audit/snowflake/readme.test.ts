import { describe, expect, it } from "vitest";
import { declareResources } from "../../../infra/platforms/declare";
import { readmeBlock, shippedBoundary, shippedSettings } from "../../support/shipped";
import { deployedAccount, driftedAccount, renderedAudit } from "./readme-output";

// The README's `audit --live snowflake` output is an excerpt of a real run on the fake account: every line of it is
// a line the audit prints for that account today.

const boundary = shippedBoundary();
const settings = { ...shippedSettings(), platforms: ["snowflake" as const] };
const resources = declareResources(boundary, settings).filter((r) => r.custom);
const admin = settings.snowflake!.adminRole;

describe("the README's Snowflake live audit output", () => {
  it.each([
    ["snowflake-audit-clean", () => deployedAccount(boundary, resources, admin)],
    ["snowflake-audit-drift", () => driftedAccount(boundary, resources, admin)],
  ] as const)("%s is what the audit prints", async (marker, account) => {
    const printed = new Set((await renderedAudit(account(), boundary, admin)).split("\n"));
    const block = readmeBlock(marker);
    expect(block.length).toBeGreaterThan(4);
    expect(block.filter((line) => !printed.has(line))).toEqual([]);
  });
});
