import { buildBoundary } from "./infra/boundary/build";
import { loadRoster } from "./infra/roster/load";
import { declareResources } from "./infra/platforms/declare";
import { Sandbox } from "./infra/sandbox/setup";
import { planSteps, summarize } from "./infra/sandbox/engine";
import { providerConnection } from "./infra/sandbox/setup";
import { shippedSettings } from "./test/support/shipped";
const major = Number(process.argv[2] ?? 18) as 18;
const parallel = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
(async () => {
  const boundary = buildBoundary(loadRoster("team.yaml"));
  const settings = { ...shippedSettings(), platforms: ["postgres" as const] };
  const resources = declareResources(boundary, settings);
  const sandbox = await Sandbox.start(settings.database, providerConnection("Pulumi.prod.yaml"), undefined, major);
  try {
    const r = await sandbox.up(resources, { allowFailure: true, ...(parallel ? { parallel } : {}) });
    console.log("first up", Math.round(r.ms), "ms", r.steps.filter(s => s.status !== "done").map(s => `${s.status} ${s.resource.name} ${s.error ?? ""}`));
    console.log("second:", summarize(planSteps(resources, sandbox.state)), planSteps(resources, sandbox.state).filter(s => s.operation !== "same").map(s => `${s.operation} ${s.resource.name} ${s.changed}`));
    const r2 = await sandbox.up(resources, { refresh: true, allowFailure: true });
    console.log("refresh up:", r2.refreshedAway, r2.steps.filter(s => s.operation !== "same").map(s => `${s.operation} ${s.resource.name} ${s.changed} ${s.status} ${s.error ?? ""}`));
  } finally { await sandbox.stop(); }
})().catch(e => { console.error(e); process.exit(1); });
