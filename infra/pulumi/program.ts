import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { declareResources } from "../platforms/declare";
import { BoundaryViolationError, checkedBoundary, PROJECT_ROOT, warehouseAccessOutputs, type WarehouseAccessOutputs } from "../program";
import { loadRoster } from "../roster/load";
import { RosterError } from "../roster/problems";
import { StackSettingsError, deployableStackSettings, type StackSettings } from "../stack";
import { registerResources } from "./register";

// The program as `pulumi up` runs it: settings from the stack config, then the declared list, registered one for one.

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
  return deployableStackSettings(values, `Pulumi.${pulumi.getStack()}.yaml`, { deploying: !pulumi.runtime.isDryRun() });
}

/** The whole program; input errors end the run cleanly, before any resource exists. */
export function runProgram(): WarehouseAccessOutputs {
  try {
    const settings = settingsFromPulumiConfig();
    const boundary = checkedBoundary(loadRoster(path.resolve(PROJECT_ROOT, settings.roster), { platforms: settings.platforms }));
    const resources = declareResources(boundary, settings);
    registerResources(resources);
    return warehouseAccessOutputs(boundary, resources);
  } catch (error) {
    if (error instanceof RosterError || error instanceof BoundaryViolationError || error instanceof StackSettingsError)
      throw new pulumi.RunError(error.message);
    throw error;
  }
}
