import { buildBoundary } from "./infra/boundary/build";
import { loadRoster } from "./infra/roster/load";
import { declareResources } from "./infra/platforms/declare";
import { Sandbox, providerConnection } from "./infra/sandbox/setup";
import { shippedSettings } from "./test/support/shipped";
(async () => {
  const settings = { ...shippedSettings(), platforms: ["postgres" as const] };
  const resources = declareResources(buildBoundary(loadRoster("team.yaml")), settings);
  const sandbox = await Sandbox.start(settings.database, providerConnection("Pulumi.prod.yaml"), undefined, 14);
  try {
    const a = await sandbox.server.client("analytics");
    console.log((await a.query("SELECT nspowner::regrole, nspacl::text FROM pg_namespace WHERE nspname='public'")).rows);
    const log: string[] = [];
    const r = await sandbox.up(resources, { allowFailure: true, log: (s) => { if (s.resource.startsWith("public/")) log.push(s.sql); } });
    console.log(r.steps.filter(s => s.status !== "done").map(s => s.resource.name + s.error), log);
    console.log((await a.query("SELECT nspowner::regrole, nspacl::text FROM pg_namespace WHERE nspname='public'")).rows);
    await a.end();
  } finally { await sandbox.stop(); }
})();
