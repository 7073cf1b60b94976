import type { DeclaredResource } from "../platforms/declare";
import { platformOf } from "../platforms/kinds";
import type { Platform } from "../stack";

// What `pulumi up` would manage, by platform and resource type: the size of the change a reviewer approves.

export interface ManagedResourceCount {
  platform: Platform;
  /** As the program writes it: `postgresql.Grant`, `snowflake.ServiceUser`, or our component's type token. */
  type: string;
  count: number;
}

export interface ManagedResources {
  /** The stack configuration the platforms were read from. */
  stackConfig: string;
  byType: ManagedResourceCount[];
  totals: Partial<Record<Platform, number>>;
}

/** `postgresql:index/grant:Grant` → postgresql.Grant; component tokens stay as they are. */
const typeName = (token: string): string => {
  const [pkg, , name] = token.split(":");
  return pkg === "warehouse-access" || name === undefined ? token : `${pkg}.${name}`;
};

export function managedResources(declared: readonly Pick<DeclaredResource, "type">[], stackConfig: string): ManagedResources {
  const counts = new Map<string, ManagedResourceCount>();
  const totals: ManagedResources["totals"] = {};
  for (const { type } of declared) {
    const platform = platformOf(type);
    if (platform === undefined) continue;
    const key = `${platform}\u0000${type}`;
    const entry = counts.get(key) ?? { platform, type: typeName(type), count: 0 };
    entry.count++;
    counts.set(key, entry);
    totals[platform] = (totals[platform] ?? 0) + 1;
  }
  const byType = [...counts.values()].sort((a, b) => a.platform.localeCompare(b.platform) || b.count - a.count || a.type.localeCompare(b.type));
  return { stackConfig, byType, totals };
}
