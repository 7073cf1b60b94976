import type { Violation } from "../boundary/rules";
import type { ProdWriters, SchemaWriters, WritePath } from "../audit/writers";
import { alignColumns, count } from "./columns";
import { denyRuleResult, renderDenyRules, type DenyRuleResult } from "./deny-rules";

// What `audit` reports: for every prod schema, who can write and how. This object is also the `--json` output.

export interface AuditReport {
  /** The roster file the boundary was built from. */
  roster: string;
  source: ProdWriters["source"];
  schemas: SchemaWriters[];
  denyRules: DenyRuleResult;
}

export function auditReport(writers: ProdWriters, violations: readonly Violation[], roster = "team.yaml"): AuditReport {
  return { roster, source: writers.source, schemas: writers.schemas, denyRules: denyRuleResult(violations) };
}

const KIND: Record<WritePath["kind"], (w: WritePath) => string> = {
  developer: () => "developer",
  service: (w) => `${w.purpose ?? "unknown"} service account`,
  provisioner: () => "admin path: runs pulumi up",
  public: () => "every login",
};

export function renderAudit(report: AuditReport): string {
  const rows = report.schemas.flatMap((s) => {
    const name = s.restricted ? `${s.schema} (restricted)` : s.schema;
    if (s.writers.length === 0) return [[name, "nobody", "", "", ""]];
    return s.writers.map((w, i) => [i === 0 ? name : "", w.principal, KIND[w.kind](w), w.chain.length > 1 ? w.chain.join(" → ") : "—", w.from]);
  });

  // The one-line answer: who writes where, counted over schemas, admin paths apart.
  const all = report.schemas.length;
  const tally = (admin: boolean): string[] => {
    const schemasOf = new Map<string, { label: string; schemas: number }>();
    for (const s of report.schemas)
      for (const w of s.writers.filter((w) => w.admin === admin)) {
        const entry = schemasOf.get(w.principal) ?? { label: admin ? w.principal : `${w.principal} (${KIND[w.kind](w)})`, schemas: 0 };
        schemasOf.set(w.principal, { ...entry, schemas: entry.schemas + 1 });
      }
    return [...schemasOf.values()].map((w) => `${w.label} on ${w.schemas === all ? `all ${all}` : w.schemas}`);
  };
  const admin = tally(true);

  return `${[
    `Who can write to prod schemas, from the boundary ${report.roster} declares (not read from a warehouse)`,
    "",
    ...alignColumns([["schema", "writer", "kind", "role chain", "from"], ...rows]),
    "",
    `${count(all, "prod schema")}. Writers: ${tally(false).join("; ") || "none"}.${admin.length > 0 ? ` Admin paths: ${admin.join("; ")}.` : ""}`,
    ...renderDenyRules(report.denyRules),
  ].join("\n")}\n`;
}
