import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { accessPaths } from "./boundary/access";
import { buildBoundary } from "./boundary/build";
import type { Boundary } from "./boundary/model";
import { checkBoundary, type Violation } from "./boundary/rules";
import { PostgresAccess } from "./platforms/postgres";
import { SnowflakeAccess } from "./platforms/snowflake";
import { loadRoster } from "./roster/load";
import { RosterError } from "./roster/problems";
import type { Roster } from "./roster/types";
import { StackSettingsError, stackSettingsFromConfig, type StackSettings } from "./stack";

// roster → boundary → deny rules → one component per platform; nothing is registered until all of it holds.

export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Thrown when the deny rules reject a boundary; the message lists each violation as `plan` prints it. */
export class BoundaryViolationError extends Error {
  constructor(readonly violations: readonly Violation[]) {
    super(violations.map((v) => `${v.rule} ${v.subject}: ${v.message}.`).join("\n"));
    this.name = "BoundaryViolationError";
  }
}

/** The boundary a roster declares, or an error naming every broken deny rule. */
export function checkedBoundary(roster: Roster): Boundary {
  const boundary = buildBoundary(roster);
  const violations = checkBoundary(boundary);
  if (violations.length > 0) throw new BoundaryViolationError(violations);
  return boundary;
}

export interface WarehouseAccessOutputs {
  /** prod schema → "principal (via role → role)" for everyone who can write it. */
  prodWriters: Record<string, string[]>;
  developerSchemas: Record<string, string[]>;
  resourceCounts: Partial<Record<StackSettings["platforms"][number], number>>;
}

/** Registers every platform's resources for a boundary that already passed the deny rules. */
export function provisionWarehouseAccess(boundary: Boundary, settings: StackSettings): WarehouseAccessOutputs {
  const resourceCounts: WarehouseAccessOutputs["resourceCounts"] = {};
  if (settings.platforms.includes("postgres"))
    resourceCounts.postgres = new PostgresAccess("postgres", { boundary, settings }).resourceCount;
  if (settings.platforms.includes("snowflake"))
    resourceCounts.snowflake = new SnowflakeAccess("snowflake", { boundary, settings }).resourceCount;

  const paths = accessPaths(boundary);
  const prodWriters = Object.fromEntries(
    boundary.schemas.filter((s) => s.kind === "prod").map((s) => [
      s.name,
      paths.filter((p) => p.schema === s.name && p.access === "write").map((p) => `${p.principal} (via ${p.via.join(" → ")})`),
    ]),
  );
  const developerSchemas = Object.fromEntries(
    boundary.principals.filter((p) => p.kind === "developer").map((p) => [
      p.name,
      boundary.schemas.filter((s) => s.developer === p.name).map((s) => s.name),
    ]),
  );
  return { prodWriters, developerSchemas, resourceCounts };
}

/** Stack settings from the running Pulumi program's config (structured values arrive as JSON text). */
export function settingsFromPulumiConfig(): StackSettings {
  const values = Object.fromEntries(
    Object.entries(pulumi.runtime.allConfig()).map(([key, text]) => {
      try {
        return [key, JSON.parse(text)];
      } catch {
        return [key, text];
      }
    }),
  );
  return stackSettingsFromConfig(values, `Pulumi.${pulumi.getStack()}.yaml`);
}

/** The whole program as `pulumi up` runs it; input errors end the run cleanly, before any resource exists. */
export function runProgram(): WarehouseAccessOutputs {
  try {
    const settings = settingsFromPulumiConfig();
    const roster = loadRoster(path.resolve(PROJECT_ROOT, settings.roster));
    return provisionWarehouseAccess(checkedBoundary(roster), settings);
  } catch (error) {
    if (error instanceof RosterError || error instanceof BoundaryViolationError || error instanceof StackSettingsError)
      throw new pulumi.RunError(error.message);
    throw error;
  }
}
