import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";

// The GitHub workflows cannot run here, so their essential structure is checked: what runs, in which order, with
// which credentials. A pull-request job must never be able to reach the deploy credentials.

const ROOT = path.resolve(__dirname, "..");
const DIR = path.join(ROOT, ".github/workflows");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string> | string;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, { branches?: string[] } | null>;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

function load(file: string): Workflow {
  const doc = parseDocument(readFileSync(path.join(DIR, file), "utf8"), { uniqueKeys: true });
  expect(doc.errors, `${file} parses as YAML`).toEqual([]);
  return doc.toJS() as Workflow;
}

const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const review = load("review.yml");
const deploy = load("deploy.yml");

const stepIndex = (job: Job, test: (s: Step) => boolean): number => job.steps.findIndex(test);
const runs = (command: RegExp) => (s: Step) => typeof s.run === "string" && command.test(s.run);
const uses = (action: string) => (s: Step) => typeof s.uses === "string" && s.uses.startsWith(`${action}@`);
const needs = (job: Job) => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]);
const environmentOf = (job: Job) => (typeof job.environment === "string" ? job.environment : job.environment?.name);

/** The pulumi/actions step of a job, with its inputs. */
function pulumiStep(job: Job): Step {
  const steps = job.steps.filter(uses("pulumi/actions"));
  expect(steps).toHaveLength(1);
  expect(steps[0]!.uses).toBe("pulumi/actions@v6");
  return steps[0]!;
}

describe("workflows", () => {
  it("are the review and deploy workflows, each parsing as YAML", () => {
    expect(files).toEqual(["deploy.yml", "review.yml"]);
    for (const file of files) expect(load(file).jobs).toBeTypeOf("object");
  });

  it.each(files)("%s grants nothing by default and each job only what it names", (file) => {
    const workflow = load(file);
    expect(workflow.permissions).toEqual({});
    for (const [id, job] of Object.entries(workflow.jobs)) {
      expect(job.permissions, `${file} ${id} permissions`).toBeTypeOf("object");
      for (const [scope, level] of Object.entries(job.permissions as Record<string, string>)) {
        expect(["contents", "pull-requests"], `${file} ${id} ${scope}`).toContain(scope);
        expect(["read", "write"]).toContain(level);
      }
      expect((job.permissions as Record<string, string>).contents).toBe("read");
    }
  });

  it.each(files)("%s pins every action to a version and never uses pull_request_target", (file) => {
    const workflow = load(file);
    expect(Object.keys(workflow.on)).not.toContain("pull_request_target");
    for (const job of Object.values(workflow.jobs))
      for (const step of job.steps) if (step.uses) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@v?\d[\w.]*$/);
  });

  it.each(files)("%s installs with npm ci on Node 20 with the npm cache", (file) => {
    for (const [id, job] of Object.entries(load(file).jobs)) {
      const node = job.steps.find(uses("actions/setup-node"));
      expect(node?.with, `${file} ${id}`).toMatchObject({ "node-version": 20, cache: "npm" });
      expect(stepIndex(job, uses("actions/checkout"))).toBe(0);
      expect(stepIndex(job, runs(/^npm ci$/))).toBeGreaterThan(stepIndex(job, uses("actions/setup-node")));
    }
  });
});

describe("review workflow (pull requests)", () => {
  const job = review.jobs.review!;
  const diffStep = job.steps.find(runs(/npm run --silent diff -- /))!;

  it("runs on pull requests to main", () => {
    expect(review.on).toEqual({ pull_request: { branches: ["main"] } });
  });

  it("checks out the full history, then installs, then tests, then diffs against the base branch", () => {
    expect(job.steps[0]).toEqual({ uses: "actions/checkout@v4", with: { "fetch-depth": 0 } });
    const install = stepIndex(job, runs(/^npm ci$/));
    const test = stepIndex(job, runs(/^npm test$/));
    const diff = job.steps.indexOf(diffStep);
    expect(install).toBeGreaterThan(0);
    expect(test).toBeGreaterThan(install);
    expect(diff).toBeGreaterThan(test);
    expect(diffStep.run).toBe('npm run --silent diff -- --base "origin/$BASE_REF" > permission-diff.md');
    // The branch name reaches the script through the environment, never spliced into the shell text.
    expect(diffStep.env).toEqual({ BASE_REF: "${{ github.base_ref }}" });
  });

  it("posts the diff file as one sticky comment with its own header, and skips that for forks", () => {
    const comment = job.steps.find(uses("marocchino/sticky-pull-request-comment"))!;
    expect(job.steps.indexOf(comment)).toBeGreaterThan(job.steps.indexOf(diffStep));
    expect(comment.with).toEqual({ header: "permission-diff", path: "permission-diff.md" });
    expect(comment.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(job.steps.some(runs(/cat permission-diff\.md >> "\$GITHUB_STEP_SUMMARY"/))).toBe(true);
    expect(job.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });

  it("gates on prod write changes in a job of its own, after the tests", () => {
    const gate = review.jobs["prod-write"]!;
    expect(needs(gate)).toEqual(["review"]);
    expect(gate.steps[0]?.with).toEqual({ "fetch-depth": 0 });
    expect(gate.steps.some(runs(/^npm run --silent diff -- --base "origin\/\$BASE_REF" --fail-on-prod-write$/))).toBe(true);
    expect(gate.permissions).toEqual({ contents: "read" });
  });

  it("previews the prod stack with the policy pack and comments on the PR, after the tests, never for forks", () => {
    const preview = review.jobs.preview!;
    expect(needs(preview)).toEqual(["review"]);
    expect(preview.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    const step = pulumiStep(preview);
    expect(step.with).toMatchObject({ command: "preview", "stack-name": "prod", "comment-on-pr": true, policyPacks: "policy" });
    expect(stepIndex(preview, runs(/^npm ci$/))).toBeLessThan(preview.steps.indexOf(step));
  });

  it("previews with read-only identities and PREVIEW_ secrets only", () => {
    const step = pulumiStep(review.jobs.preview!);
    expect(step.env).toEqual({
      PULUMI_ACCESS_TOKEN: "${{ secrets.PREVIEW_PULUMI_ACCESS_TOKEN }}",
      PGPASSWORD: "${{ secrets.PREVIEW_POSTGRES_PASSWORD }}",
      SNOWFLAKE_PRIVATE_KEY: "${{ secrets.PREVIEW_SNOWFLAKE_PRIVATE_KEY }}",
    });
    // The action reads config-map as YAML: {key: {value, secret}}.
    const configMap = parse(String(step.with?.["config-map"])) as Record<string, { value: string; secret: boolean }>;
    expect(configMap).toEqual({
      "postgresql:username": { value: "${{ vars.PREVIEW_POSTGRES_USER }}", secret: false },
      "snowflake:user": { value: "${{ vars.PREVIEW_SNOWFLAKE_USER }}", secret: false },
      "snowflake:role": { value: "${{ vars.PREVIEW_SNOWFLAKE_ROLE }}", secret: false },
    });
  });

  it("never references a deploy secret or the prod environment in any pull-request job", () => {
    for (const [id, job] of Object.entries(review.jobs)) {
      const text = JSON.stringify(job);
      expect(text, id).not.toMatch(/DEPLOY_/);
      expect(environmentOf(job), id).toBeUndefined();
      for (const secret of text.match(/secrets\.[A-Z_]+/g) ?? []) expect(secret, id).toMatch(/^secrets\.PREVIEW_/);
    }
  });
});

describe("deploy workflow (main)", () => {
  it("runs on pushes to main, one update at a time, never cancelled halfway", () => {
    expect(deploy.on).toEqual({ push: { branches: ["main"] } });
    expect((deploy as unknown as { concurrency: unknown }).concurrency).toEqual({ group: "deploy-prod", "cancel-in-progress": false });
  });

  it("tests first, then runs pulumi up with the policy pack in the protected prod environment", () => {
    const test = deploy.jobs.test!;
    expect(test.steps.some(runs(/^npm test$/))).toBe(true);
    const up = deploy.jobs.up!;
    expect(needs(up)).toEqual(["test"]);
    expect(environmentOf(up)).toBe("prod");
    expect(pulumiStep(up).with).toEqual({ command: "up", "stack-name": "prod", policyPacks: "policy" });
  });

  it("uses the DEPLOY_ secrets, only in the job that names the prod environment", () => {
    expect(pulumiStep(deploy.jobs.up!).env).toEqual({
      PULUMI_ACCESS_TOKEN: "${{ secrets.DEPLOY_PULUMI_ACCESS_TOKEN }}",
      PGPASSWORD: "${{ secrets.DEPLOY_POSTGRES_PASSWORD }}",
      SNOWFLAKE_PRIVATE_KEY: "${{ secrets.DEPLOY_SNOWFLAKE_PRIVATE_KEY }}",
    });
    expect(JSON.stringify(deploy.jobs.test)).not.toMatch(/secrets\./);
    expect(JSON.stringify(deploy)).not.toMatch(/PREVIEW_/);
  });
});

describe("what the workflows call exists", () => {
  it("the diff script and the policy pack directory", () => {
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.diff).toBe("node -r ./scripts/register.js infra/cli/diff.ts");
    expect(scripts.test).toMatch(/vitest run/);
    expect(existsSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"))).toBe(true);
  });
});
