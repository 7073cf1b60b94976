import * as path from 'node:path';
import { describe, it, expect } from 'vitest';
import {
  PulumiProgramTimeoutError,
  errorMessages,
  loadStackConfig,
  runPulumiProgram,
  type ProgramRun,
  type RegisteredResource,
} from './pulumi-runtime';

const programDir = path.join(__dirname, 'fixtures', 'tiny-program');
// ts-node type-checks the program in the child: a run takes a few seconds, more on a slow machine.
const TIMEOUT = 60_000;

function byName(run: ProgramRun, name: string): RegisteredResource {
  const found = run.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}; registered: ${run.resources.map((r) => r.urn).join(', ')}`);
  return found;
}

describe('loadStackConfig', () => {
  it('gives config values in the CLI’s string form, structured values as JSON', () => {
    expect(loadStackConfig(programDir, 'dev')).toEqual({ 'tiny:greeting': 'hello', 'tiny:sizes': '[1,2,3]' });
  });
});

describe('runPulumiProgram', () => {
  it(
    'registers the program’s resources with their types, names, parents, protect and dependencies',
    async () => {
      const run = await runPulumiProgram({
        programDir,
        project: 'tiny',
        stack: 'dev',
        config: loadStackConfig(programDir, 'dev'),
      });
      expect(run.exitCode, `${errorMessages(run)}\n${run.stderr}`).toBe(0);
      expect(run.logs.filter((l) => l.severity === 'error')).toEqual([]);

      expect(run.resources.map((r) => [r.type, r.name])).toEqual([
        ['pulumi:pulumi:Stack', 'tiny-dev'],
        ['test:index:Holder', 'holder'],
        ['test:index:Thing', 'holder-marker'],
        ['test:index:Thing', 'holder-thing'],
      ]);
      const stack = byName(run, 'tiny-dev');
      const holder = byName(run, 'holder');
      const marker = byName(run, 'holder-marker');
      const thing = byName(run, 'holder-thing');

      expect(stack.urn).toBe('urn:pulumi:dev::tiny::pulumi:pulumi:Stack::tiny-dev');
      expect(stack.parent).toBeUndefined();
      expect(run.rootUrn).toBe(stack.urn);
      // Children of the stack get no type chain; children of a component get the component's type.
      expect(holder.urn).toBe('urn:pulumi:dev::tiny::test:index:Holder::holder');
      expect(holder.parent).toBe(stack.urn);
      expect(holder.custom).toBe(false);
      expect(marker.parent).toBe(holder.urn);
      expect(thing.parent).toBe(holder.urn);
      expect(thing.urn).toBe('urn:pulumi:dev::tiny::test:index:Holder$test:index:Thing::holder-thing');

      expect(thing.custom).toBe(true);
      expect(thing.protect).toBe(true);
      expect(marker.protect).toBe(false);
      expect(thing.dependencies).toEqual([marker.urn]);
      expect(thing.id).toBe('holder-thing_id');

      // Config came through PULUMI_CONFIG; the secret is unwrapped in inputs and kept in rawInputs.
      expect(thing.inputs).toEqual({ label: 'hello', size: 3, note: 'hush' });
      expect(thing.rawInputs.note).toMatchObject({ value: 'hush' });
      expect(holder.outputs).toEqual({ thingLabel: 'hello' });

      expect(run.outputs).toEqual({ thingLabel: 'hello', total: 6 });
      expect(run.rpcCalls['ResourceMonitor/SignalAndWaitForShutdown']).toBe(1);
    },
    TIMEOUT,
  );

  it(
    'previews with --dry-run: custom resources get no id',
    async () => {
      const run = await runPulumiProgram({
        programDir,
        stack: 'dev',
        config: loadStackConfig(programDir, 'dev'),
        dryRun: true,
      });
      expect(run.exitCode, `${errorMessages(run)}\n${run.stderr}`).toBe(0);
      expect(run.command.args).toContain('--dry-run');
      expect(byName(run, 'holder-thing').id).toBe('');
      expect(run.outputs).toEqual({ thingLabel: 'hello', total: 6 });
    },
    TIMEOUT,
  );

  it(
    'reports a throwing program as an error log and a non-zero exit, with only the stack registered',
    async () => {
      const run = await runPulumiProgram({
        programDir,
        project: 'tiny',
        stack: 'dev',
        config: { ...loadStackConfig(programDir, 'dev'), 'tiny:fail': 'true' },
      });
      expect(run.exitCode).not.toBe(0);
      const errors = run.logs.filter((l) => l.severity === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toContain('tiny:fail is true, failing on purpose');
      expect(run.resources.map((r) => r.type)).toEqual(['pulumi:pulumi:Stack']);
      expect(run.outputs).toEqual({});
    },
    TIMEOUT,
  );

  it(
    'kills a program that outlives its timeout and rejects with what was recorded',
    async () => {
      const error: unknown = await runPulumiProgram({ programDir, stack: 'dev', config: {}, timeoutMs: 200 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PulumiProgramTimeoutError);
      if (!(error instanceof PulumiProgramTimeoutError)) return;
      expect(error.run.exitCode).not.toBe(0);
      expect(error.run.resources).toEqual([]);
    },
    TIMEOUT,
  );

  it('refuses a project name that does not match Pulumi.yaml, as the CLI would', async () => {
    await expect(runPulumiProgram({ programDir, project: 'other', stack: 'dev', config: {} })).rejects.toThrow(
      /does not match name tiny/,
    );
  });

  it('refuses config keys without a namespace, as the language host would', async () => {
    await expect(runPulumiProgram({ programDir, stack: 'dev', config: { greeting: 'hi' } })).rejects.toThrow(
      /<namespace>:<name>/,
    );
  });
});
