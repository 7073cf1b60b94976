import * as path from "node:path";
import { buildBoundary } from "../../infra/boundary/build";
import type { Boundary } from "../../infra/boundary/model";
import { loadRoster } from "../../infra/roster/load";
import { loadStackSettings, type StackSettings } from "../../infra/stack";

// The roster and stack that ship in the repository, as the program reads them.

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const shippedSettings = (): StackSettings => loadStackSettings(path.join(REPO_ROOT, "Pulumi.prod.yaml"));
export const shippedBoundary = (): Boundary => buildBoundary(loadRoster(path.join(REPO_ROOT, "team.yaml")));
