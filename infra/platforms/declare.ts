import type { Boundary } from "../boundary/model";
import type { Platform, StackSettings } from "../stack";
import { postgresResources } from "./postgres";
import type { DeclaredResource } from "./resources";
import { snowflakeResources } from "./snowflake";

// Every platform's resources for a boundary: the list `plan`, `diff`, the sandbox, the policy tests and infra/pulumi read.

export type { DeclaredResource, ResourceKey } from "./resources";

/** One platform's resources for a boundary. */
export const PLATFORM_RESOURCES: Record<Platform, (boundary: Boundary, settings: StackSettings) => DeclaredResource[]> = {
  postgres: postgresResources,
  snowflake: snowflakeResources,
};

/** Every resource the program registers for a boundary, per configured platform, in registration order. */
export function declareResources(boundary: Boundary, settings: StackSettings): DeclaredResource[] {
  const order: Platform[] = ["postgres", "snowflake"];
  return ([] as DeclaredResource[]).concat(...order.filter((p) => settings.platforms.includes(p)).map((p) => PLATFORM_RESOURCES[p](boundary, settings)));
}
