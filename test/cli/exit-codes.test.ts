import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import { checkBoundary } from "../../infra/boundary/rules";
import { ExitCode, exitCodeFor } from "../../infra/cli/command";
import { loadRoster } from "../../infra/roster/load";
import { aliceWritesProdSales, bobHoldsProdWriter, publicWritesProdMarketing } from "../report/broken-boundaries";

// Exit code 1 cannot come out of a child process: no valid roster builds a violating boundary. So the mapping the
// commands use (checkBoundary → exitCodeFor → process.exitCode) is tested here, on hand-built violating boundaries.

const shipped = buildBoundary(loadRoster(path.resolve(__dirname, "../../team.yaml")));

describe("exit codes", () => {
  it("are 0 ok, 1 violation, 2 invalid input", () => {
    expect(ExitCode).toEqual({ ok: 0, violation: 1, invalidInput: 2 });
  });

  it("is 0 when the deny rules hold", () => {
    expect(exitCodeFor(checkBoundary(shipped))).toBe(0);
  });

  it.each([
    ["a developer granted write on a prod schema (D1)", aliceWritesProdSales, "D1"],
    ["a developer role inside prod_writer (D2)", bobHoldsProdWriter, "D2"],
    ["PUBLIC granted write on a prod schema (D3)", publicWritesProdMarketing, "D3"],
  ])("is 1 for %s", (_, breakIt, rule) => {
    const violations = checkBoundary(breakIt(shipped));
    expect(violations.map((v) => v.rule)).toContain(rule);
    expect(exitCodeFor(violations)).toBe(1);
  });
});
