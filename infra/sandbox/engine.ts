// The Pulumi engine as `pulumi up` drives a provider: diff the program's resources against the stack's state, then run
// the steps along the dependency graph with `--parallel` at once (by default the CLI's: 4 per CPU), stop
// launching new steps after the first failure and skip what depended on it, and delete what left the program in
// reverse dependency order at the end. `--refresh` reads every resource first, as the engine's refresh does, in parallel.
// Left out: delete-before-replace's replacement of dependents (calculateDependentReplacements), which nothing here needs.

import { availableParallelism } from "node:os";
import type { DeclaredResource, ResourceKey } from "../platforms/resources";
import { duplicateKey, keyOf } from "../platforms/resources";
import type { PostgresProvider } from "./provider";
import { diffAttributes, type Attributes } from "./provider-schema";

/** What the stack remembers of one resource: how it was registered and the attributes the provider last stored. */
export interface StateEntry {
  resource: DeclaredResource;
  attributes: Attributes;
}
export type StackState = Map<ResourceKey, StateEntry>;

export type StepOperation = "create" | "update" | "replace" | "delete" | "same";

export interface PlannedStep {
  operation: StepOperation;
  resource: DeclaredResource;
  /** The stored state it changes, for updates, replacements and deletes. */
  before?: StateEntry;
  /** The attributes whose difference caused it. */
  changed: readonly string[];
}

export interface StepResult extends PlannedStep {
  status: "done" | "failed" | "skipped";
  error?: string;
  ms: number;
}

export interface UpResult {
  state: StackState;
  steps: StepResult[];
  /** Resources found gone by the refresh, which this run created again. */
  refreshedAway: string[];
  ms: number;
}

export interface UpOptions {
  refresh?: boolean;
  /** Resource operations at once (`pulumi up --parallel`); 1 runs them one at a time. */
  parallel?: number;
}

/** `pulumi up`'s default for --parallel (pkg/cmd/pulumi/operations/up.go, defaultParallel): PULUMI_PARALLEL, else 4 × GOMAXPROCS. */
export function defaultParallel(env: NodeJS.ProcessEnv = process.env): number {
  const set = Number(env.PULUMI_PARALLEL);
  return Number.isInteger(set) && set > 0 ? set : 4 * availableParallelism();
}

/** Pulumi's preview: what `up` would do to reach `resources` from `state`, in dependency order. */
export function planSteps(resources: readonly DeclaredResource[], state: ReadonlyMap<ResourceKey, StateEntry>): PlannedStep[] {
  const custom = resources.filter((r) => r.custom);
  const wanted = new Set<ResourceKey>();
  for (const key of custom.map(keyOf)) {
    // The step generator refuses a second registration of one URN (diag GetDuplicateResourceURNError, error 2001).
    if (wanted.has(key)) throw new Error(duplicateKey(key));
    wanted.add(key);
  }
  const replaced = new Set<ResourceKey>();
  const steps: PlannedStep[] = [];
  for (const resource of custom) {
    const before = state.get(keyOf(resource));
    if (!before) {
      steps.push({ operation: "create", resource, changed: [] });
      continue;
    }
    const diff = diffAttributes(resource.type, resource.inputs, before.attributes);
    // replaceWith: Pulumi replaces this resource whenever one it names is replaced.
    const replace = diff.replace || resource.replaceWith.some((r) => replaced.has(keyOf(r)));
    if (replace) {
      if (before.resource.protect) throw new Error(`${resource.name}: unable to replace protected resource (${diff.changed.join(", ")} changed)`);
      replaced.add(keyOf(resource));
      steps.push({ operation: "replace", resource, before, changed: diff.changed });
    } else {
      steps.push({ operation: diff.changed.length > 0 ? "update" : "same", resource, before, changed: diff.changed });
    }
  }
  for (const [key, before] of state) {
    if (wanted.has(key)) continue;
    if (before.resource.protect) throw new Error(`${before.resource.name}: unable to delete protected resource (D6)`);
    steps.push({ operation: "delete", resource: before.resource, before, changed: [] });
  }
  return steps;
}

/** True when a plan changes nothing: what "a second `pulumi up` finds nothing to do" means. */
export const changesNothing = (steps: readonly PlannedStep[]): boolean => steps.every((s) => s.operation === "same");

/** Pulumi's summary line: `+ 3 to create, ~ 1 to update, +- 1 to replace, - 1 to delete, 170 unchanged`. */
export function summarize(steps: readonly PlannedStep[]): string {
  const count = (operation: StepOperation) => steps.filter((s) => s.operation === operation).length;
  const parts = ([["+", "create"], ["~", "update"], ["+-", "replace"], ["-", "delete"]] as const)
    .filter(([, op]) => count(op) > 0)
    .map(([sign, op]) => `${sign} ${count(op)} to ${op}`);
  return parts.length === 0 ? `no changes (${count("same")} unchanged)` : `${parts.join(", ")}, ${count("same")} unchanged`;
}

/** `pulumi up` against the stack `state` (changed in place, as the stack file is): refresh, diff, apply, delete. */
export async function up(resources: readonly DeclaredResource[], state: StackState, provider: PostgresProvider, options: UpOptions = {}): Promise<UpResult> {
  const started = performance.now();
  const parallel = options.parallel ?? defaultParallel();
  const refreshedAway: string[] = [];
  if (options.refresh) {
    await runGraph([...state.entries()].map(([key]) => ({ key, deps: [] })), parallel, async (key) => {
      const entry = state.get(key)!;
      const read = await provider.read(entry.resource, entry.attributes);
      if (read === undefined) {
        state.delete(key);
        refreshedAway.push(entry.resource.name);
      } else state.set(key, { ...entry, attributes: read });
    });
  }
  const steps = planSteps(resources, state);
  const results = new Map<PlannedStep, StepResult>();
  const record = (step: PlannedStep, status: StepResult["status"], ms: number, error?: string) =>
    results.set(step, { ...step, status, ms, ...(error !== undefined ? { error } : {}) });

  // Creates, updates and the creating half of replacements, each after the steps of what it depends on.
  const forward = steps.filter((s) => s.operation !== "delete");
  const byKey = new Map(forward.map((s) => [keyOf(s.resource), s]));
  const laterDeletes: PlannedStep[] = [];
  await runGraph(
    forward.map((s) => ({ key: keyOf(s.resource), deps: s.resource.dependsOn.map(keyOf).filter((d) => byKey.has(d)) })),
    parallel,
    async (key) => {
      const step = byKey.get(key)!;
      const t0 = performance.now();
      const { resource, before } = step;
      if (step.operation === "same") return void record(step, "done", 0);
      if (step.operation === "replace" && before && !resource.deleteBeforeReplace) laterDeletes.push({ ...step, operation: "delete", resource: before.resource });
      if (step.operation === "replace" && before && resource.deleteBeforeReplace) {
        if (!before.resource.retainOnDelete) await provider.delete(before.resource, before.attributes);
        state.delete(key);
      }
      const attributes = step.operation === "update" ? await provider.update(resource, before!.attributes) : await provider.create(resource);
      state.set(key, { resource, attributes });
      record(step, "done", performance.now() - t0);
    },
    (key, error) => record(byKey.get(key)!, "failed", 0, message(error)),
    (key) => record(byKey.get(key)!, "skipped", 0),
  );

  // Deletes last, dependents before what they depend on (in the old state's graph).
  const deletes = [...steps.filter((s) => s.operation === "delete"), ...laterDeletes];
  if ([...results.values()].every((r) => r.status === "done")) {
    const deleting = new Map(deletes.map((s) => [keyOf(s.resource), s]));
    const dependents = new Map<ResourceKey, ResourceKey[]>();
    for (const s of deletes)
      for (const dep of s.resource.dependsOn.map(keyOf)) if (deleting.has(dep)) dependents.set(dep, [...(dependents.get(dep) ?? []), keyOf(s.resource)]);
    await runGraph(
      deletes.map((s) => ({ key: keyOf(s.resource), deps: dependents.get(keyOf(s.resource)) ?? [] })),
      parallel,
      async (key) => {
        const step = deleting.get(key)!;
        const t0 = performance.now();
        if (!step.resource.retainOnDelete) await provider.delete(step.resource, step.before!.attributes);
        if (step.before && state.get(key) === step.before) state.delete(key);
        record(step, "done", performance.now() - t0);
      },
      (key, error) => record(deleting.get(key)!, "failed", 0, message(error)),
      (key) => record(deleting.get(key)!, "skipped", 0),
    );
  } else for (const s of deletes) record(s, "skipped", 0);

  return { state, steps: [...steps, ...laterDeletes].map((s) => results.get(s) ?? { ...s, status: "skipped", ms: 0 }), refreshedAway, ms: performance.now() - started };
}

const message = (error: unknown): string => {
  const e = error as { message?: string; code?: string };
  return e.code ? `${e.message} (SQLSTATE ${e.code})` : String(e.message ?? error);
};

interface Node {
  key: ResourceKey;
  deps: readonly ResourceKey[];
}

/**
 * The engine's step executor: a node starts once every dependency is done, at most `parallel` at once; after the first
 * failure nothing new starts (running steps finish), and what could not start is reported as skipped.
 */
async function runGraph(
  nodes: readonly Node[],
  parallel: number,
  run: (key: ResourceKey) => Promise<void>,
  failed: (key: ResourceKey, error: unknown) => void = (_, error) => { throw error; },
  skipped: (key: ResourceKey) => void = () => undefined,
): Promise<void> {
  const waiting = new Map(nodes.map((n) => [n.key, new Set(n.deps)]));
  const dependents = new Map<ResourceKey, ResourceKey[]>();
  for (const n of nodes) for (const d of n.deps) dependents.set(d, [...(dependents.get(d) ?? []), n.key]);
  const ready: ResourceKey[] = nodes.filter((n) => n.deps.length === 0).map((n) => n.key);
  let running = 0;
  let stopped = false;
  let firstError: unknown;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (!stopped && running < parallel && ready.length > 0) {
        const key = ready.shift()!;
        waiting.delete(key);
        running++;
        run(key).then(
          () => {
            for (const next of dependents.get(key) ?? []) {
              const left = waiting.get(next);
              if (left && left.delete(key) && left.size === 0) ready.push(next);
            }
          },
          (error: unknown) => {
            stopped = true;
            try {
              failed(key, error);
            } catch (rethrown) {
              firstError ??= rethrown;
            }
          },
        ).finally(() => {
          running--;
          pump();
        });
      }
      if (running === 0) {
        for (const key of new Set([...ready, ...waiting.keys()])) skipped(key);
        resolve();
      }
    };
    pump();
  });
  if (firstError !== undefined) throw firstError;
}
