/**
 * Runs a Pulumi TypeScript program the way `pulumi up` / `pulumi preview` does, without the
 * Pulumi CLI or any provider plugin: an in-process gRPC server plays the engine (Engine and
 * ResourceMonitor services) and a child `node @pulumi/pulumi/cmd/run` is started exactly as
 * `pulumi-language-nodejs` starts it (same flags, same PULUMI_* environment, same working
 * directory rules), so tsconfig, ts-node, entry-point and config mistakes surface here as they
 * would under the real CLI.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';

// Types only: the runtime modules are loaded from the SDK copy the program itself will use.
type Grpc = typeof import('@grpc/grpc-js');
type ResourcePb = typeof import('@pulumi/pulumi/proto/resource_pb');
type ResourceGrpcPb = typeof import('@pulumi/pulumi/proto/resource_grpc_pb');
type EnginePb = typeof import('@pulumi/pulumi/proto/engine_pb');
type EngineGrpcPb = typeof import('@pulumi/pulumi/proto/engine_grpc_pb');
type ProviderPb = typeof import('@pulumi/pulumi/proto/provider_pb');
type EmptyPb = typeof import('google-protobuf/google/protobuf/empty_pb');
type StructPb = typeof import('google-protobuf/google/protobuf/struct_pb');
type Struct = import('google-protobuf/google/protobuf/struct_pb').Struct;
type IResourceMonitorServer = import('@pulumi/pulumi/proto/resource_grpc_pb').IResourceMonitorServer;
type IEngineServer = import('@pulumi/pulumi/proto/engine_grpc_pb').IEngineServer;

/** The value the SDK sends for a property that is not known yet (previews). */
export const UNKNOWN = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

const SPECIAL_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
const RESOURCE_REF_SIG = '5cf8f73096256a8f31e491e813e4eb8e';
const OUTPUT_VALUE_SIG = 'd0e6a833031e9bbcd3f4e8bde6ca49a4';
const ROOT_STACK_TYPE = 'pulumi:pulumi:Stack';

/** Exit code with which the runtime says "the error was already logged" (the CLI then bails quietly). */
export const EXIT_CODE_ERROR_ALREADY_LOGGED = 32;

export type LogSeverity = 'debug' | 'info' | 'warning' | 'error';

export interface LogEntry {
  severity: LogSeverity;
  message: string;
  /** The resource the message is about, if any (the root stack for unhandled program errors). */
  urn?: string;
  ephemeral: boolean;
}

/** A resource reference input, decoded from the SDK's resource-reference sentinel. */
export interface ResourceReference {
  urn: string;
  id?: string;
  packageVersion?: string;
}

export interface RegisteredResource {
  type: string;
  name: string;
  urn: string;
  /** The id the harness answered with: '' for components and for custom resources in a dry run. */
  id: string;
  parent?: string;
  custom: boolean;
  /** As sent by the SDK (which already inherits `protect` from the parent). */
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  /** URNs from dependsOn (and, for the SDK, resources its inputs depend on). */
  dependencies: string[];
  /** URNs from replaceWith: replacing one of them replaces this resource too. */
  replaceWith: string[];
  propertyDependencies: Record<string, string[]>;
  /** Inputs as plain JS: secrets unwrapped, output values unwrapped, unknowns kept as UNKNOWN. */
  inputs: Record<string, unknown>;
  /** Inputs exactly as the SDK serialised them, with Pulumi's sentinel objects. */
  rawInputs: Record<string, unknown>;
  /** Outputs registered by a component with registerOutputs(), decoded like inputs. */
  outputs?: Record<string, unknown>;
  provider?: string;
  providers: Record<string, string>;
  version?: string;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  additionalSecretOutputs: string[];
  deletedWith?: string;
  importId?: string;
  remote: boolean;
}

export interface ReadResource {
  type: string;
  name: string;
  id: string;
  urn: string;
  parent?: string;
  provider?: string;
  properties: Record<string, unknown>;
}

export interface InvokeCall {
  token: string;
  args: Record<string, unknown>;
  provider?: string;
}

export interface ProgramRun {
  /** The child's exit code; -1 when it was killed by a signal. */
  exitCode: number;
  signal: NodeJS.Signals | null;
  /** Every RegisterResource, in arrival order, the root stack first. */
  resources: RegisteredResource[];
  reads: ReadResource[];
  invokes: InvokeCall[];
  logs: LogEntry[];
  stdout: string;
  stderr: string;
  /** Stack outputs (RegisterResourceOutputs on the root stack), decoded like inputs. */
  outputs: Record<string, unknown>;
  /** How many times each RPC was called, by service method name (e.g. `ResourceMonitor/Invoke`). */
  rpcCalls: Record<string, number>;
  rootUrn?: string;
  durationMs: number;
  /** What was started, to reproduce a run by hand. */
  command: { node: string; args: string[]; cwd: string; env: Record<string, string> };
}

export interface RunPulumiProgramOptions {
  /** The Pulumi project directory (where Pulumi.yaml is) or any directory below it. */
  programDir: string;
  /** Must match `name` in Pulumi.yaml, as the CLI would refuse otherwise; defaults to it. */
  project?: string;
  stack: string;
  /** Stack config as the CLI holds it: `namespace:key` -> string (structured values as JSON). */
  config: Record<string, string>;
  /** Config keys whose values are secrets (`namespace:key`), passed as PULUMI_CONFIG_SECRET_KEYS. */
  configSecretKeys?: string[];
  /** `pulumi preview` when true, `pulumi up` when false (the default). */
  dryRun?: boolean;
  /** Kill the program after this long (default 120 s: ts-node type-checks the whole program). */
  timeoutMs?: number;
  /** Extra environment for the child, applied last. */
  env?: Record<string, string>;
  /** Defaults to "organization", what the CLI passes with a self-managed (diy) backend. */
  organization?: string;
  /** --parallel as the CLI passes it; only 1 changes the SDK's behaviour. */
  parallel?: number;
  /** Answers to SupportsFeature, merged over the defaults (see DEFAULT_FEATURES). */
  features?: Record<string, boolean>;
}

/**
 * What the harness tells the SDK it supports. Callback-based features (transforms, hooks) are
 * off because the harness cannot call back into the program; the SDK then fails clearly when a
 * program uses them instead of silently ignoring them.
 */
export const DEFAULT_FEATURES: Readonly<Record<string, boolean>> = {
  secrets: true,
  resourceReferences: true,
  outputValues: true,
  deletedWith: true,
  replaceWith: true,
  aliasSpecs: true,
  parameterization: true,
  transforms: false,
  invokeTransforms: false,
  resourceHooks: false,
  errorHooks: false,
};

/** Thrown when the program outlives `timeoutMs`; carries what was recorded until then. */
export class PulumiProgramTimeoutError extends Error {
  constructor(
    message: string,
    public readonly run: ProgramRun,
  ) {
    super(message);
    this.name = 'PulumiProgramTimeoutError';
  }
}

/** The parts of Pulumi.yaml that decide how the language host starts the program. */
export interface PulumiProject {
  name: string;
  /** Directory holding Pulumi.yaml (--root-directory). */
  rootDirectory: string;
  /** Directory the program runs in (--pwd): `main` if it is a directory, else its parent. */
  programDirectory: string;
  /** What the host passes as the program: "." for a directory, else the file's base name. */
  entryPoint: string;
  typescript: boolean;
  tsconfig?: string;
  nodeargs?: string;
  /** Project-level `config:` defaults, `namespace:key` -> CLI string form. */
  configDefaults: Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function findProjectFile(startDir: string): string {
  let dir = path.resolve(startDir);
  for (;;) {
    for (const file of ['Pulumi.yaml', 'Pulumi.yml']) {
      const candidate = path.join(dir, file);
      if (fs.existsSync(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no Pulumi.yaml in ${startDir} or any parent directory`);
    dir = parent;
  }
}

/** The CLI's string form of a config value: strings as they are, everything else as JSON. */
function toConfigString(value: unknown, key: string): string {
  if (isRecord(value) && 'secure' in value) {
    throw new Error(`config ${key} is a secure value; the harness cannot decrypt it, pass it in config instead`);
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function qualifyKey(key: string, project: string): string {
  return key.includes(':') ? key : `${project}:${key}`;
}

/** Reads Pulumi.yaml the way the CLI does (searching upward) and works out --pwd and the entry point. */
export function readPulumiProject(programDir: string): PulumiProject {
  const projectFile = findProjectFile(programDir);
  const rootDirectory = path.dirname(projectFile);
  const doc: unknown = parseYaml(fs.readFileSync(projectFile, 'utf8'));
  if (!isRecord(doc) || typeof doc.name !== 'string') throw new Error(`${projectFile}: no project name`);
  const runtime = doc.runtime;
  const runtimeName = isRecord(runtime) ? runtime.name : runtime;
  if (runtimeName !== 'nodejs') throw new Error(`${projectFile}: runtime is ${String(runtimeName)}, not nodejs`);
  const options = isRecord(runtime) && isRecord(runtime.options) ? runtime.options : {};
  if (options.typescript !== undefined && typeof options.typescript !== 'boolean') {
    throw new Error(`${projectFile}: typescript option must be a boolean`);
  }

  // Same rules as the engine's getPwdMain: a directory `main` becomes the working directory.
  let programDirectory = rootDirectory;
  let entryPoint = '.';
  if (typeof doc.main === 'string' && doc.main !== '') {
    const main = path.resolve(rootDirectory, doc.main);
    if (fs.statSync(main).isDirectory()) {
      programDirectory = main;
    } else {
      programDirectory = path.dirname(main);
      entryPoint = path.basename(main);
    }
  }

  const configDefaults: Record<string, string> = {};
  if (isRecord(doc.config)) {
    for (const [key, spec] of Object.entries(doc.config)) {
      const fullKey = qualifyKey(key, doc.name);
      // Project config is `key: value` or `key: { type, value | default, ... }`; a bare schema sets nothing.
      const value = !isRecord(spec) ? spec : 'value' in spec ? spec.value : spec.default;
      if (value !== undefined) configDefaults[fullKey] = toConfigString(value, fullKey);
    }
  }

  return {
    name: doc.name,
    rootDirectory,
    programDirectory,
    entryPoint,
    typescript: options.typescript !== false,
    ...(typeof options.tsconfig === 'string' ? { tsconfig: options.tsconfig } : {}),
    ...(typeof options.nodeargs === 'string' ? { nodeargs: options.nodeargs } : {}),
    configDefaults,
  };
}

/**
 * The config the CLI would hand the program for `stack`: Pulumi.yaml defaults overlaid with
 * Pulumi.<stack>.yaml, every value in the CLI's string form (structured values as JSON).
 */
export function loadStackConfig(programDir: string, stack: string): Record<string, string> {
  const project = readPulumiProject(programDir);
  const config: Record<string, string> = { ...project.configDefaults };
  const stackFile = path.join(project.rootDirectory, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackFile)) return config;
  const doc: unknown = parseYaml(fs.readFileSync(stackFile, 'utf8'));
  const values = isRecord(doc) && isRecord(doc.config) ? doc.config : {};
  for (const [key, value] of Object.entries(values)) {
    const fullKey = qualifyKey(key, project.name);
    config[fullKey] = toConfigString(value, fullKey);
  }
  return config;
}

/** PULUMI_CONFIG as pulumi-language-nodejs builds it: `ns:key` becomes `ns:config:key`. */
function languageHostConfig(config: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const colon = key.indexOf(':');
    if (colon <= 0 || colon === key.length - 1) {
      throw new Error(`config key ${JSON.stringify(key)} is not of the form <namespace>:<name>`);
    }
    const namespace = key.slice(0, colon);
    const name = key.slice(colon + 1).replace(/^config:/, '');
    out[`${namespace}:config:${name}`] = value;
  }
  return out;
}

/** Decodes one property value from the SDK's wire form into plain JS. */
export function decodePropertyValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodePropertyValue);
  if (!isRecord(value)) return value;
  const sig = value[SPECIAL_SIG_KEY];
  if (sig === SECRET_SIG) return decodePropertyValue(value.value);
  if (sig === OUTPUT_VALUE_SIG) return 'value' in value ? decodePropertyValue(value.value) : UNKNOWN;
  if (sig === RESOURCE_REF_SIG) {
    const ref: ResourceReference = { urn: String(value.urn) };
    if (typeof value.id === 'string') ref.id = value.id;
    if (typeof value.packageVersion === 'string' && value.packageVersion !== '') ref.packageVersion = value.packageVersion;
    return ref;
  }
  if (sig !== undefined) return value; // Assets and archives stay as the SDK sent them.
  return decodeProperties(value);
}

export function decodeProperties(properties: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(properties)) out[key] = decodePropertyValue(v);
  return out;
}

function structToJs(struct: Struct | undefined): Record<string, unknown> {
  return struct ? (struct.toJavaScript() as Record<string, unknown>) : {};
}

function mapToRecord<V, R>(map: { forEach(cb: (value: V, key: string) => void): void }, f: (v: V) => R): Record<string, R> {
  const out: Record<string, R> = {};
  map.forEach((value, key) => {
    out[key] = f(value);
  });
  return out;
}

/** The engine's URN rule: the parent's type chain, except that children of the root stack get none. */
function makeUrn(stack: string, project: string, type: string, name: string, parent: string): string {
  let qualifiedType = type;
  if (parent !== '') {
    const parentType = parent.split('::')[2];
    if (parentType === undefined) throw new Error(`malformed parent URN ${parent}`);
    if (parentType !== ROOT_STACK_TYPE) qualifiedType = `${parentType}$${type}`;
  }
  return `urn:pulumi:${stack}::${project}::${qualifiedType}::${name}`;
}

interface SdkModules {
  runPath: string;
  grpc: Grpc;
  resourcePb: ResourcePb;
  resourceGrpcPb: ResourceGrpcPb;
  enginePb: EnginePb;
  engineGrpcPb: EngineGrpcPb;
  providerPb: ProviderPb;
  emptyPb: EmptyPb;
  structPb: StructPb;
}

/**
 * Resolves `@pulumi/pulumi/cmd/run` from the program directory, as the language host does, and
 * loads gRPC and the generated stubs from that same SDK copy so the service definitions match.
 */
function loadSdk(programDirectory: string): SdkModules {
  const programRequire = createRequire(path.join(programDirectory, 'index.js'));
  let runPath: string;
  try {
    runPath = programRequire.resolve('@pulumi/pulumi/cmd/run');
  } catch {
    throw new Error(`@pulumi/pulumi is not installed for ${programDirectory} (the CLI would say: have you run pulumi install?)`);
  }
  const sdkRoot = path.resolve(path.dirname(runPath), '..', '..');
  const sdkRequire = createRequire(path.join(sdkRoot, 'proto', 'resource_pb.js'));
  return {
    runPath,
    grpc: sdkRequire('@grpc/grpc-js') as Grpc,
    resourcePb: sdkRequire('./resource_pb') as ResourcePb,
    resourceGrpcPb: sdkRequire('./resource_grpc_pb') as ResourceGrpcPb,
    enginePb: sdkRequire('./engine_pb') as EnginePb,
    engineGrpcPb: sdkRequire('./engine_grpc_pb') as EngineGrpcPb,
    providerPb: sdkRequire('./provider_pb') as ProviderPb,
    emptyPb: sdkRequire('google-protobuf/google/protobuf/empty_pb') as EmptyPb,
    structPb: sdkRequire('google-protobuf/google/protobuf/struct_pb') as StructPb,
  };
}

const SEVERITIES: Record<number, LogSeverity> = { 0: 'debug', 1: 'info', 2: 'warning', 3: 'error' };

// What vitest (through vite's env) adds to process.env: a CLI-started program would not see these.
const TEST_RUNNER_ENV = new Set(['TEST', 'PROD', 'DEV', 'BASE_URL', 'MODE', 'SSR', 'FORCE_TTY']);

/** The parent's environment minus what the language host sets itself and test-runner markers. */
function inheritedEnv(): Record<string, string> {
  const underVitest = process.env.VITEST !== undefined;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^PULUMI_(NODEJS_|CONFIG)/.test(key) || /^VITEST/.test(key)) continue;
    if (underVitest && (TEST_RUNNER_ENV.has(key) || (key === 'NODE_ENV' && value === 'test'))) continue;
    env[key] = value;
  }
  return env;
}

/** Runs the program under `programDir` against an in-process engine and records what it registers. */
export async function runPulumiProgram(opts: RunPulumiProgramOptions): Promise<ProgramRun> {
  const project = readPulumiProject(opts.programDir);
  const projectName = opts.project ?? project.name;
  if (projectName !== project.name) {
    throw new Error(`project ${projectName} does not match name ${project.name} in ${project.rootDirectory}/Pulumi.yaml`);
  }
  const dryRun = opts.dryRun ?? false;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const features = { ...DEFAULT_FEATURES, ...opts.features };
  const pulumiConfig = JSON.stringify(languageHostConfig(opts.config));
  const sdk = loadSdk(project.programDirectory);
  const { grpc, resourcePb, enginePb, providerPb, emptyPb, structPb } = sdk;

  const started = Date.now();
  const resources: RegisteredResource[] = [];
  const byUrn = new Map<string, RegisteredResource>();
  const reads: ReadResource[] = [];
  const invokes: InvokeCall[] = [];
  const logs: LogEntry[] = [];
  const rpcCalls: Record<string, number> = {};
  let outputs: Record<string, unknown> = {};
  let rootUrn: string | undefined;

  const count = (method: string): void => {
    rpcCalls[method] = (rpcCalls[method] ?? 0) + 1;
  };
  const unimplemented =
    (method: string) =>
    (_call: unknown, callback: (err: { code: number; details: string }, value: null) => void): void => {
      count(method);
      callback({ code: grpc.status.UNIMPLEMENTED, details: `${method} is not implemented by the test harness` }, null);
    };

  const monitor: IResourceMonitorServer = {
    supportsFeature(call, callback) {
      count('ResourceMonitor/SupportsFeature');
      const res = new resourcePb.SupportsFeatureResponse();
      res.setHassupport(features[call.request.getId()] ?? false);
      callback(null, res);
    },
    registerResource(call, callback) {
      count('ResourceMonitor/RegisterResource');
      const req = call.request;
      const type = req.getType();
      const name = req.getName();
      const parent = req.getParent();
      const urn = makeUrn(opts.stack, projectName, type, name, parent);
      if (byUrn.has(urn)) {
        // The engine rejects this too; the SDK then reports it as an unhandled program error.
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `Duplicate resource URN '${urn}'; try giving it a unique name` }, null);
        return;
      }
      if (type === ROOT_STACK_TYPE && parent === '') rootUrn = urn;
      const custom = req.getCustom();
      const importId = req.getImportid();
      // A preview does not know ids of resources to create; an update gets a made-up one.
      const id = !custom ? '' : importId !== '' ? importId : dryRun ? '' : `${name}_id`;
      const rawInputs = structToJs(req.getObject());
      const version = req.getVersion();
      const provider = req.getProvider();
      const deletedWith = req.getDeletedwith();
      const resource: RegisteredResource = {
        type,
        name,
        urn,
        id,
        ...(parent !== '' ? { parent } : {}),
        custom,
        protect: req.getProtect() ?? false,
        retainOnDelete: req.getRetainondelete() ?? false,
        deleteBeforeReplace: req.getDeletebeforereplace(),
        dependencies: req.getDependenciesList(),
        replaceWith: req.getReplaceWithList(),
        propertyDependencies: mapToRecord(req.getPropertydependenciesMap(), (d) => d.getUrnsList()),
        inputs: decodeProperties(rawInputs),
        rawInputs,
        ...(provider !== '' ? { provider } : {}),
        providers: mapToRecord(req.getProvidersMap(), (p) => p),
        ...(version !== '' ? { version } : {}),
        ignoreChanges: req.getIgnorechangesList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        ...(deletedWith !== '' ? { deletedWith } : {}),
        ...(importId !== '' ? { importId } : {}),
        remote: req.getRemote(),
      };
      resources.push(resource);
      byUrn.set(urn, resource);
      const res = new resourcePb.RegisterResourceResponse();
      res.setUrn(urn);
      res.setId(id);
      // Echo the inputs as the outputs, as a provider whose outputs equal its inputs would.
      res.setObject(req.getObject() ?? new structPb.Struct());
      callback(null, res);
    },
    registerResourceOutputs(call, callback) {
      count('ResourceMonitor/RegisterResourceOutputs');
      const urn = call.request.getUrn();
      const decoded = decodeProperties(structToJs(call.request.getOutputs()));
      const resource = byUrn.get(urn);
      if (resource) resource.outputs = decoded;
      if (urn === rootUrn) outputs = decoded;
      callback(null, new emptyPb.Empty());
    },
    readResource(call, callback) {
      count('ResourceMonitor/ReadResource');
      const req = call.request;
      const urn = makeUrn(opts.stack, projectName, req.getType(), req.getName(), req.getParent());
      const provider = req.getProvider();
      reads.push({
        type: req.getType(),
        name: req.getName(),
        id: req.getId(),
        urn,
        ...(req.getParent() !== '' ? { parent: req.getParent() } : {}),
        ...(provider !== '' ? { provider } : {}),
        properties: decodeProperties(structToJs(req.getProperties())),
      });
      const res = new resourcePb.ReadResourceResponse();
      res.setUrn(urn);
      res.setProperties(req.getProperties() ?? new structPb.Struct());
      callback(null, res);
    },
    invoke(call, callback) {
      count('ResourceMonitor/Invoke');
      const req = call.request;
      const provider = req.getProvider();
      invokes.push({
        token: req.getTok(),
        args: decodeProperties(structToJs(req.getArgs())),
        ...(provider !== '' ? { provider } : {}),
      });
      // No provider behind it: every invoke returns an empty object.
      const res = new providerPb.InvokeResponse();
      res.setReturn(new structPb.Struct());
      callback(null, res);
    },
    registerPackage(call, callback) {
      count('ResourceMonitor/RegisterPackage');
      const req = call.request;
      const param = req.getParameterization();
      const res = new resourcePb.RegisterPackageResponse();
      res.setRef(`${req.getName()}@${req.getVersion()}${param ? `/${param.getName()}@${param.getVersion()}` : ''}`);
      callback(null, res);
    },
    signalAndWaitForShutdown(_call, callback) {
      count('ResourceMonitor/SignalAndWaitForShutdown');
      callback(null, new emptyPb.Empty());
    },
    getDeploymentInfo: unimplemented('ResourceMonitor/GetDeploymentInfo'),
    call: unimplemented('ResourceMonitor/Call'),
    registerStackTransform: unimplemented('ResourceMonitor/RegisterStackTransform'),
    registerStackInvokeTransform: unimplemented('ResourceMonitor/RegisterStackInvokeTransform'),
    registerResourceHook: unimplemented('ResourceMonitor/RegisterResourceHook'),
    registerErrorHook: unimplemented('ResourceMonitor/RegisterErrorHook'),
  };

  const engine: IEngineServer = {
    log(call, callback) {
      count('Engine/Log');
      const req = call.request;
      const urn = req.getUrn();
      logs.push({
        severity: SEVERITIES[req.getSeverity()] ?? 'info',
        message: req.getMessage(),
        ...(urn !== '' ? { urn } : {}),
        ephemeral: req.getEphemeral(),
      });
      callback(null, new emptyPb.Empty());
    },
    getRootResource(_call, callback) {
      count('Engine/GetRootResource');
      const res = new enginePb.GetRootResourceResponse();
      res.setUrn(rootUrn ?? '');
      callback(null, res);
    },
    setRootResource(call, callback) {
      count('Engine/SetRootResource');
      rootUrn = call.request.getUrn();
      callback(null, new enginePb.SetRootResourceResponse());
    },
    requirePulumiVersion(_call, callback) {
      count('Engine/RequirePulumiVersion');
      callback(null, new enginePb.RequirePulumiVersionResponse());
    },
    startDebugging: unimplemented('Engine/StartDebugging'),
  };

  // The engine accepts messages as large as the SDK may send (400 MB), not grpc-js' 4 MB default.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 400 * 1024 * 1024 });
  server.addService(sdk.resourceGrpcPb.ResourceMonitorService, monitor);
  server.addService(sdk.engineGrpcPb.EngineService, engine);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, boundPort) =>
        err ? reject(err) : resolve(boundPort),
      );
    });
    const address = `127.0.0.1:${port}`;

    // Flags in pulumi-language-nodejs' order. No --sync: this SDK never opens the sync-invoke pipes.
    const args = [
      sdk.runPath,
      '--monitor', address,
      '--engine', address,
      '--organization', opts.organization ?? 'organization',
      '--project', projectName,
      '--root-directory', project.rootDirectory,
      '--stack', opts.stack,
      '--pwd', project.programDirectory,
      ...(dryRun ? ['--dry-run'] : []),
      '--parallel', String(opts.parallel ?? 2147483647),
      project.entryPoint,
    ];
    const nodeArgs = project.nodeargs ? project.nodeargs.split(/\s+/).filter((a) => a !== '') : [];
    const hostEnv: Record<string, string> = {
      PULUMI_CONFIG: pulumiConfig,
      PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(opts.configSecretKeys ?? []),
      ...(project.typescript ? { PULUMI_NODEJS_TYPESCRIPT: 'true' } : {}),
      ...(project.tsconfig !== undefined ? { PULUMI_NODEJS_TSCONFIG_PATH: project.tsconfig } : {}),
    };
    const env = { ...inheritedEnv(), ...hostEnv, ...opts.env };
    const command = {
      node: process.execPath,
      args: [...nodeArgs, ...args],
      cwd: project.programDirectory,
      env: { ...hostEnv, ...opts.env },
    };

    const child = spawn(command.node, command.args, { cwd: command.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      // Like the language host on cancel: interrupt first, kill if it lingers.
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    }, timeoutMs);

    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    }).finally(() => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
    });

    const run: ProgramRun = {
      exitCode: exit.code ?? -1,
      signal: exit.signal,
      resources,
      reads,
      invokes,
      logs,
      stdout,
      stderr,
      outputs,
      rpcCalls,
      ...(rootUrn !== undefined ? { rootUrn } : {}),
      durationMs: Date.now() - started,
      command,
    };
    if (timedOut) {
      throw new PulumiProgramTimeoutError(
        `Pulumi program in ${project.programDirectory} did not finish within ${timeoutMs} ms\n${stderr.slice(-2000)}`,
        run,
      );
    }
    return run;
  } finally {
    server.forceShutdown();
  }
}

/** Error-severity log messages, joined: handy in assertion messages. */
export function errorMessages(run: ProgramRun): string {
  return run.logs
    .filter((l) => l.severity === 'error')
    .map((l) => l.message)
    .join('\n');
}
