import type { Boundary } from "../boundary/model";
import { declareResources } from "../platforms/declare";
import { platformOf } from "../platforms/kinds";
import { keyOf, type DeclaredResource } from "../platforms/resources";
import { typeName } from "../report/resources";
import type { Platform, StackSettings } from "../stack";

// The change at the resource level: what `pulumi up` would create, update and delete going from one declared list to
// the other. It compares declared inputs and options, as the engine's diff starts; the provider may still turn an
// update into a replacement, which only `pulumi preview` can tell.

export interface ResourceTypeChange {
  platform: Platform;
  /** `postgresql.Grant`, `snowflake.Schema`, or our component's type token. */
  type: string;
  creates: number;
  updates: number;
  deletes: number;
}

export interface ResourceDiff {
  creates: number;
  updates: number;
  deletes: number;
  /** Deletes that keep their data: Pulumi forgets the schema (retainOnDelete), the database keeps it. */
  retained: number;
  /** Deletes `pulumi up` refuses: protected resources stop it until someone unprotects them on purpose. */
  protected: number;
  unchanged: number;
  byType: ResourceTypeChange[];
}

/** Inputs and the options a preview shows as a change; a reordered dependsOn is none. */
const state = (r: DeclaredResource): string => JSON.stringify([r.inputs, r.protect, r.retainOnDelete, r.ignoreChanges]);

export function resourceDiff(before: readonly DeclaredResource[], after: readonly DeclaredResource[]): ResourceDiff {
  const diff: ResourceDiff = { creates: 0, updates: 0, deletes: 0, retained: 0, protected: 0, unchanged: 0, byType: [] };
  const byType = new Map<string, ResourceTypeChange>();
  const tally = (r: DeclaredResource, change: "creates" | "updates" | "deletes") => {
    diff[change]++;
    const platform = platformOf(r.type);
    if (platform === undefined) return;
    const entry = byType.get(r.type) ?? { platform, type: typeName(r.type), creates: 0, updates: 0, deletes: 0 };
    entry[change]++;
    byType.set(r.type, entry);
  };
  const was = new Map(before.map((r) => [keyOf(r), r]));
  const is = new Set(after.map(keyOf));
  for (const r of after) {
    const old = was.get(keyOf(r));
    if (old === undefined) tally(r, "creates");
    else if (state(old) !== state(r)) tally(r, "updates");
    else diff.unchanged++;
  }
  for (const r of before) {
    if (is.has(keyOf(r))) continue;
    tally(r, "deletes");
    if (r.protect) diff.protected++;
    else if (r.retainOnDelete) diff.retained++;
  }
  diff.byType = [...byType.values()].sort((a, b) => a.platform.localeCompare(b.platform) || a.type.localeCompare(b.type));
  return diff;
}

/**
 * The resource change from the base to the working tree, both declared by this revision's program. A side without a
 * roster or a stack configuration had nothing deployed from it.
 */
export function resourceChange(
  before: { boundary?: Boundary | undefined; settings?: StackSettings | undefined },
  after: { boundary: Boundary; settings: StackSettings },
): ResourceDiff {
  const was = before.boundary && before.settings ? declareResources(before.boundary, before.settings) : [];
  return resourceDiff(was, declareResources(after.boundary, after.settings));
}
