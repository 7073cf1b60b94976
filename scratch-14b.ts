import { Sandbox, providerConnection } from "./infra/sandbox/setup";
(async () => {
  const sandbox = await Sandbox.start("analytics", providerConnection("Pulumi.prod.yaml"), undefined, 14);
  const a = await sandbox.server.client("analytics");
  console.log(sandbox.major, (await a.query("SELECT version(), current_setting('server_version_num') n, nspowner::regrole, nspacl::text FROM pg_namespace WHERE nspname='public'")).rows);
  await a.end(); await sandbox.stop();
})();
