// Rules that need the whole stack: who reaches prod_writer through which memberships (D2), who can write to prod once
// every grant, ownership and membership is read back together (D1, by the same interpreters the tests and the audit
// use), and which authentication policy each Snowflake service user has (D7).

import { CI_BUILDER, PROD_WRITER, snowflakeName } from "../infra/roster/naming";
import { interpretPostgresAccess } from "../infra/platforms/postgres/interpret";
import { objectName } from "../infra/platforms/snowflake/identifiers";
import { interpretSnowflakeAccess } from "../infra/platforms/snowflake/interpret";
import { RULES, WRITE_PATH, isProdSchema, list, record, strings, text, violation, type Resource } from "./facts";
import { POSTGRES_TYPES, isDeveloperOrCiRole } from "./postgres";
import { SF_TYPES, SF_WRITER, adminRoles, provisionerRole } from "./snowflake";

/** `member` holds `role` because of `via`. */
interface Edge {
  member: string;
  role: string;
  via: Resource;
}

interface Principal {
  /** Node id in the membership graph. */
  id: string;
  /** How messages name it: "login alice", "user ALICE". */
  label: string;
  /** Why it cannot be a prod service account whatever it holds; undefined when it could be one. */
  notAService?: string;
  declaredBy?: Resource;
}

interface Platform {
  writer: string;
  edges: Edge[];
  principals: Map<string, Principal>;
  isPersonalRole: (role: string) => boolean;
  /** Roles whose holding prod_writer is the admin path (Snowflake's admin roles), so not the culprit of a chain. */
  isAdminRole: (node: string) => boolean;
  fix: string;
}

function postgresPlatform(resources: readonly Resource[]): Platform {
  const edges: Edge[] = [];
  const principals = new Map<string, Principal>();
  const declared = new Set<string>();
  for (const r of resources.filter((x) => x.type === POSTGRES_TYPES.role)) {
    const name = text(r.props.name) ?? r.name;
    declared.add(name);
    for (const role of strings(r.props.roles)) edges.push({ member: name, role, via: r });
    if (r.props.login === true) principals.set(name, { id: name, label: `login ${name}`, declaredBy: r });
  }
  for (const r of resources.filter((x) => x.type === POSTGRES_TYPES.grantRole)) {
    const member = text(r.props.role);
    const role = text(r.props.grantRole);
    if (member && role) edges.push({ member, role, via: r });
  }
  // A member no Role of this stack declares may be any login: the pack cannot tell that it is a prod service account.
  for (const e of edges)
    if (!declared.has(e.member)) principals.set(e.member, { id: e.member, label: `role ${e.member}`, notAService: `${e.member} is not a login role declared in this stack` });
  return {
    writer: PROD_WRITER,
    edges,
    principals,
    isPersonalRole: isDeveloperOrCiRole,
    isAdminRole: () => false,
    fix: `grant ${PROD_WRITER} only to the login role of a \`purpose: prod\` service account in team.yaml, directly, and no developer or CI role to that login`,
  };
}

const SF_CI = snowflakeName(CI_BUILDER);

function snowflakePlatform(resources: readonly Resource[]): Platform {
  const edges: Edge[] = [];
  const principals = new Map<string, Principal>();
  const userTypes: Record<string, string | undefined> = {
    [SF_TYPES.serviceUser]: undefined,
    [SF_TYPES.user]: "it is a person (snowflake.User, TYPE=PERSON), not a TYPE=SERVICE user",
    [SF_TYPES.legacyServiceUser]: "it is a legacy service user (TYPE=LEGACY_SERVICE), which may log in with a password",
  };
  for (const r of resources.filter((x) => x.type in userTypes)) {
    const name = text(r.props.name) ?? r.name;
    const notAService = userTypes[r.type];
    principals.set(`user:${name}`, { id: `user:${name}`, label: `user ${name}`, declaredBy: r, ...(notAService ? { notAService } : {}) });
  }
  for (const r of resources.filter((x) => x.type === SF_TYPES.grantAccountRole)) {
    const role = text(r.props.roleName);
    const user = text(r.props.userName);
    const parent = text(r.props.parentRoleName);
    if (!role) continue;
    if (user) {
      const id = `user:${objectName(user)}`;
      if (!principals.has(id))
        principals.set(id, { id, label: `user ${objectName(user)}`, notAService: "it is not a snowflake.ServiceUser declared in this stack (a developer's existing user, or unknown)" });
      edges.push({ member: id, role: `role:${objectName(role)}`, via: r });
    } else if (parent) edges.push({ member: `role:${objectName(parent)}`, role: `role:${objectName(role)}`, via: r });
  }
  // A role's owner can grant the role to itself: ownership is membership in effect.
  for (const r of resources.filter((x) => x.type === SF_TYPES.grantOwnership)) {
    const on = record(r.props.on);
    const owner = text(r.props.accountRoleName);
    if (owner && text(on?.objectType)?.toUpperCase() === "ROLE" && text(on?.objectName))
      edges.push({ member: `role:${objectName(owner)}`, role: `role:${objectName(text(on!.objectName)!)}`, via: r });
  }
  return {
    writer: `role:${SF_WRITER}`,
    edges,
    principals,
    isPersonalRole: (role) => role.startsWith("role:DEV_") || role === `role:${SF_CI}`,
    isAdminRole: (node) => resources.some((r) => adminRoles(r).has(bare(node))) || ["role:ACCOUNTADMIN", "role:SYSADMIN"].includes(node),
    fix: `grant ${SF_WRITER} only to the \`purpose: prod\` service user (snowflake.ServiceUser, TYPE=SERVICE), directly, and no developer or CI role to that user`,
  };
}

/** Every role `start` holds, each with the shortest chain of edges that reaches it (breadth first). */
function reach(platform: Platform, start: string): Map<string, Edge[]> {
  const out = new Map<string, Edge[]>();
  for (const e of platform.edges) out.set(e.member, [...(out.get(e.member) ?? []), e]);
  const chains = new Map<string, Edge[]>();
  const queue: { node: string; chain: Edge[] }[] = [{ node: start, chain: [] }];
  for (let i = 0; i < queue.length; i++) {
    const { node, chain } = queue[i]!;
    for (const e of out.get(node) ?? []) {
      if (chains.has(e.role) || e.role === start) continue;
      chains.set(e.role, [...chain, e]);
      queue.push({ node: e.role, chain: [...chain, e] });
    }
  }
  return chains;
}

const bare = (node: string): string => node.replace(/^(user|role):/, "");

interface Holders {
  /** Principals that hold the writer role as a prod service account should: directly, by the right kind of account. */
  prodAccounts: Set<string>;
  violations: string[];
}

/** D2 for one platform: every principal that reaches prod_writer, checked for how and by what kind of account. */
function writerHolders(platform: Platform): Holders {
  const prodAccounts = new Set<string>();
  const violations: string[] = [];
  for (const principal of platform.principals.values()) {
    const roles = reach(platform, principal.id);
    const chain = roles.get(platform.writer);
    if (chain === undefined) continue;
    const reasons: string[] = [];
    if (chain.length > 1) reasons.push(`it reaches ${bare(platform.writer)} through ${list(chain.slice(0, -1).map((e) => bare(e.role)))}, not directly`);
    if (principal.notAService) reasons.push(principal.notAService);
    const personal = [...roles.keys()].filter(platform.isPersonalRole).map(bare);
    if (personal.length > 0) reasons.push(`it is also a developer or CI account (it holds ${list(personal)})`);
    if (reasons.length === 0) {
      prodAccounts.add(bare(principal.id));
      continue;
    }
    const path = [bare(principal.id), ...chain.map((e) => bare(e.role))].join(" → ");
    // The culprit: the grant of prod_writer to a role on the way, unless that role is the admin path; then the principal's first step.
    const last = chain[chain.length - 1]!;
    const culprit = chain.length > 1 && !platform.isAdminRole(last.member) ? last : chain[0]!;
    violations.push(violation(culprit.via, RULES.D2, `${principal.label} holds ${bare(platform.writer)} (${path}), but ${reasons.join("; ")}`, platform.fix));
  }
  // Group roles holding prod_writer through GrantRole (Role.roles is judged resource by resource).
  for (const e of platform.edges.filter((x) => x.role === platform.writer && x.via.type === POSTGRES_TYPES.grantRole && !platform.principals.has(x.member)))
    violations.push(violation(e.via, RULES.D2, `it grants ${PROD_WRITER} to group role ${e.member}, so every member of ${e.member} would write prod schemas`, platform.fix));
  return { prodAccounts, violations };
}

/** One write a holder has on a prod schema, as the interpreters read it back. */
interface Write {
  holder: string;
  schema: string;
}

const key = (w: Write): string => `${w.holder}\u0000${w.schema}`;

/** A change that takes one resource's part out of the stack: delete it, or strip the memberships or owner it carries. */
type Without = (r: Resource) => Resource | undefined;

/** What the interpreters read back from some resources: the writes nobody should have, and every access at all. */
interface ReadBack {
  wrong: Write[];
  /** Keys of every (holder, schema, access) read back, legitimate or not. */
  all: Set<string>;
}

/**
 * For writes nobody should have, the resources that cause them: a resource causes a write when the write is gone once
 * that resource's part is taken out. Greedy cover, so each write is blamed once: first the resource that explains the
 * most, then the one whose removal costs the least legitimate access (the grant of PROD_WRITER to DEV_ALICE, not
 * ALICE's membership of DEV_ALICE), then privilege grants before memberships. Writes that no single resource
 * explains (two independent paths) are left unexplained.
 */
function blame(resources: readonly Resource[], readBack: (rs: readonly Resource[]) => ReadBack, partOf: Without): { by: Map<Resource, Write[]>; unexplained: Write[] } {
  const full = readBack(resources);
  const found = full.wrong;
  const by = new Map<Resource, Write[]>();
  if (found.length === 0) return { by, unexplained: [] };
  const candidates: { r: Resource; gone: Set<string>; collateral: number; rank: number }[] = [];
  resources.forEach((r, i) => {
    const changed = partOf(r);
    if (changed === r) return;
    const rest = readBack([...resources.slice(0, i), ...(changed ? [changed] : []), ...resources.slice(i + 1)]);
    const still = new Set(rest.wrong.map(key));
    const gone = new Set(found.map(key).filter((k) => !still.has(k)));
    const lost = [...full.all].filter((k) => !rest.all.has(k)).length;
    if (gone.size > 0) candidates.push({ r, gone, collateral: lost - gone.size, rank: blameRank(r) });
  });
  let open = new Set(found.map(key));
  const score = (c: { gone: Set<string> }) => [...c.gone].filter((k) => open.has(k)).length;
  const better = (c: (typeof candidates)[number], b: (typeof candidates)[number]) =>
    score(c) !== score(b) ? score(c) > score(b) : c.collateral !== b.collateral ? c.collateral < b.collateral : c.rank < b.rank;
  for (;;) {
    const best = candidates.filter((c) => score(c) > 0).reduce<(typeof candidates)[number] | undefined>((b, c) => (b === undefined || better(c, b) ? c : b), undefined);
    if (best === undefined) break;
    by.set(best.r, found.filter((w) => open.has(key(w)) && best.gone.has(key(w))));
    open = new Set([...open].filter((k) => !best.gone.has(k)));
  }
  return { by, unexplained: found.filter((w) => open.has(key(w))) };
}

/** Privilege grants and ownerships first, then role-to-role grants, then a role's own list of memberships. */
const blameRank = (r: Resource): number =>
  r.type === POSTGRES_TYPES.role ? 2 : r.type === POSTGRES_TYPES.grantRole || r.type === SF_TYPES.grantAccountRole ? 1 : 0;

const postgresInputs = (resources: readonly Resource[]) => {
  // The interpreter reads memberships from Role.roles only; GrantRole memberships are folded in, undeclared members become logins.
  const extra = new Map<string, string[]>();
  for (const r of resources.filter((x) => x.type === POSTGRES_TYPES.grantRole)) {
    const member = text(r.props.role);
    const role = text(r.props.grantRole);
    if (member && role) extra.set(member, [...(extra.get(member) ?? []), role]);
  }
  const inputs = resources.map((r) => {
    if (r.type !== POSTGRES_TYPES.role) return { type: r.type, inputs: r.props };
    const name = text(r.props.name) ?? r.name;
    const more = extra.get(name) ?? [];
    extra.delete(name);
    return { type: r.type, inputs: more.length > 0 ? { ...r.props, name, roles: [...strings(r.props.roles), ...more] } : { ...r.props, name } };
  });
  for (const [name, roles] of extra) inputs.push({ type: POSTGRES_TYPES.role, inputs: { name, login: true, roles } });
  return inputs;
};

/** The provider's login (postgresql:username) runs pulumi up and owns prod schemas: the admin path, not a breach. */
const postgresProvisioners = (rs: readonly Resource[]): Set<string> =>
  new Set(rs.map((r) => text(r.provider?.username)).filter((x): x is string => x !== undefined));

function postgresReadBack(prodAccounts: Set<string>, provisioners: Set<string>) {
  return (resources: readonly Resource[]): ReadBack => {
    const access = interpretPostgresAccess(postgresInputs(resources));
    return {
      wrong: access
        .filter((a) => a.access === "write" && isProdSchema(a.schema) && !prodAccounts.has(a.login) && !provisioners.has(a.login))
        .map((a) => ({ holder: a.login, schema: a.schema })),
      all: new Set(access.map((a) => `${a.login}\u0000${a.schema}\u0000${a.access}`)),
    };
  };
}

function snowflakeReadBack(prodAccounts: Set<string>, provisioner: string) {
  return (resources: readonly Resource[]): ReadBack => {
    const { access } = interpretSnowflakeAccess(resources.map((r) => ({ type: r.type, inputs: r.props })), { provisionerRole: provisioner });
    return {
      wrong: access
        .filter((a) => a.access === "write" && isProdSchema(a.schema) && !prodAccounts.has(a.holder))
        .map((a) => ({ holder: a.holder, schema: `${a.database}.${a.schema}` })),
      all: new Set(access.map((a) => `${a.holder}\u0000${a.database}.${a.schema}\u0000${a.access}`)),
    };
  };
}

// prod_writer's own grants are the sanctioned path: taking them away would "fix" every write, so they are never to blame.
const withoutPostgres: Without = (r) => {
  if (r.type === POSTGRES_TYPES.grant) return text(r.props.role) === PROD_WRITER ? r : undefined;
  if (r.type === POSTGRES_TYPES.grantRole) return undefined;
  if (r.type === POSTGRES_TYPES.role) return { ...r, props: { ...r.props, roles: [] } };
  if (r.type === POSTGRES_TYPES.schema && r.props.owner !== undefined) {
    const { owner: _owner, ...props } = r.props;
    return { ...r, props };
  }
  return r;
};

const withoutSnowflake: Without = (r) => {
  if (r.type === SF_TYPES.grantPrivileges || r.type === SF_TYPES.grantOwnership)
    return objectName(text(r.props.accountRoleName) ?? "") === SF_WRITER ? r : undefined;
  if (r.type === SF_TYPES.grantAccountRole) {
    const parent = text(r.props.parentRoleName);
    const rollUp = objectName(text(r.props.roleName) ?? "") === SF_WRITER && parent !== undefined && adminRoles(r).has(objectName(parent));
    return rollUp ? r : undefined;
  }
  return r;
};

/** "alice write prod_sales, prod_finance; bob write prod_sales". */
function says(writes: readonly Write[]): string {
  const byHolder = new Map<string, string[]>();
  for (const w of writes) byHolder.set(w.holder, [...(byHolder.get(w.holder) ?? []), w.schema]);
  return [...byHolder].map(([holder, schemas]) => `${holder} write ${list(schemas)}`).join("; ");
}

function readBackViolations(platform: Platform, found: { by: Map<Resource, Write[]>; unexplained: Write[] }): string[] {
  const only = `only a prod service account holding ${bare(platform.writer)} directly may`;
  const violations = [...found.by].map(([r, writes]) =>
    violation(r, RULES.D1, `read back with every grant, ownership and membership in the stack, it lets ${says(writes)}, and ${only}`, `take that write away; ${WRITE_PATH}`));
  const byHolder = new Map<string, Write[]>();
  for (const w of found.unexplained) byHolder.set(w.holder, [...(byHolder.get(w.holder) ?? []), w]);
  for (const [holder, writes] of byHolder) {
    const principal = platform.principals.get(holder) ?? platform.principals.get(`user:${holder}`);
    const where = principal?.declaredBy ?? platform.edges.find((e) => bare(e.member) === holder)?.via ?? { type: "pulumi:pulumi:Stack", name: "stack" };
    violations.push(violation(where, RULES.D1, `read back with every grant, ownership and membership in the stack, ${says(writes).replace(" write ", " can write ")} through more than one resource, and ${only}`, `take away every grant, ownership and membership that gives it; ${WRITE_PATH}`));
  }
  return violations;
}

const postgresResources = (rs: readonly Resource[]) => rs.filter((r) => r.type.startsWith("postgresql:"));
const snowflakeResources = (rs: readonly Resource[]) => rs.filter((r) => r.type.startsWith("snowflake:"));
const snowflakeProvisioner = (rs: readonly Resource[]): string =>
  rs.map(provisionerRole).find((x) => x !== undefined) ?? "SYSADMIN";

/** D2 over the whole stack: on each platform, every principal that reaches prod_writer must be a prod service account holding it directly. */
export function prodWriterMemberships(resources: readonly Resource[]): string[] {
  return [
    ...writerHolders(postgresPlatform(postgresResources(resources))).violations,
    ...writerHolders(snowflakePlatform(snowflakeResources(resources))).violations,
  ];
}

/** D1 over the whole stack: who can write to each prod schema, read back by the platform interpreters, and which resources cause it. */
export function prodWritersReadBack(resources: readonly Resource[]): string[] {
  const pg = postgresResources(resources);
  const sf = snowflakeResources(resources);
  const pgPlatform = postgresPlatform(pg);
  const sfPlatform = snowflakePlatform(sf);
  const pgReadBack = postgresReadBack(writerHolders(pgPlatform).prodAccounts, postgresProvisioners(pg));
  const sfReadBack = snowflakeReadBack(writerHolders(sfPlatform).prodAccounts, snowflakeProvisioner(sf));
  return [
    ...readBackViolations(pgPlatform, blame(pg, pgReadBack, withoutPostgres)),
    ...readBackViolations(sfPlatform, blame(sf, sfReadBack, withoutSnowflake)),
  ];
}

/** D7 over the whole stack: every Snowflake service user has a key-pair-only authentication policy attached. */
export function serviceUsersKeyPairOnly(resources: readonly Resource[]): string[] {
  const sf = snowflakeResources(resources);
  const reading = interpretSnowflakeAccess(sf.map((r) => ({ type: r.type, inputs: r.props })), { provisionerRole: snowflakeProvisioner(sf) });
  const declared = new Map(sf.filter((r) => r.type === SF_TYPES.serviceUser).map((r) => [text(r.props.name) ?? r.name, r]));
  // A preview may not know a policy's or an attachment's names yet; "no policy attached" waits for pulumi up then.
  const incomplete = sf.some((r) =>
    (r.type === SF_TYPES.userAuthenticationPolicy && !(text(r.props.userName) && text(r.props.authenticationPolicyName)))
    || (r.type === SF_TYPES.authenticationPolicy && !(text(r.props.database) && text(r.props.schema) && text(r.props.name))));
  return reading.users
    .filter((u) => u.type === "SERVICE" && !(incomplete && u.authenticationMethods === undefined))
    .filter((u) => !(u.authenticationMethods?.length === 1 && u.authenticationMethods[0]?.toUpperCase() === "KEYPAIR"))
    .map((u) => {
      const r = declared.get(u.user) ?? { type: SF_TYPES.serviceUser, name: u.user };
      const has = u.authenticationMethods === undefined ? "no authentication policy attached" : `an authentication policy allowing ${list(u.authenticationMethods)}`;
      return violation(r, RULES.D7keys, `service user ${u.user} has ${has}, so it could log in by other means than its key pair (OAuth, a programmatic access token)`, 'attach an authentication policy with authenticationMethods ["KEYPAIR"] through a snowflake.UserAuthenticationPolicyAttachment, as the program does for every service user');
    });
}
