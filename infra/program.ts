import * as path from "node:path";
import { accessPaths } from "./boundary/access";
import { buildBoundary } from "./boundary/build";
import type { Boundary } from "./boundary/model";
import { checkBoundary, type Violation } from "./boundary/rules";
import type { DeclaredResource } from "./platforms/declare";
import { platformOf } from "./platforms/kinds";
import type { Roster } from "./roster/types";
import type { StackSettings } from "./stack";

// roster → boundary → deny rules → the platforms' resources; nothing is registered until all of it holds (infra/pulumi).

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

/** What the stack exports for a boundary that passed the deny rules and the resources declared for it. */
export function warehouseAccessOutputs(boundary: Boundary, resources: readonly Pick<DeclaredResource, "type">[]): WarehouseAccessOutputs {
  const resourceCounts: WarehouseAccessOutputs["resourceCounts"] = {};
  for (const { type } of resources) {
    const platform = platformOf(type);
    if (platform !== undefined) resourceCounts[platform] = (resourceCounts[platform] ?? 0) + 1;
  }
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

