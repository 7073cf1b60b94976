/**
 * How long a sandbox that stays up (`--keep`) lives: until Ctrl-C, SIGTERM or SIGHUP, or until the process that
 * started it goes away. `npm run` starts scripts through `sh -c`, which neither passes SIGTERM on nor takes node with
 * it: killing npm, by any signal, leaves node orphaned. So the process watches its parent and, under npm, npm's shell's
 * parent too, and stops when either is gone.
 */
import fs from 'fs';

export type StopReason = NodeJS.Signals | 'parent gone';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const PARENT_POLL_MS = 200;

/** Each (child, parent) link in the chain from this process up, as it was when the module loaded: a link that changes means the parent died. */
const startedBy: { pid: number; parent: number }[] = (() => {
  const links = [{ pid: process.pid, parent: process.ppid }];
  // npm sets npm_lifecycle_event for the scripts it runs; their parent is its shell, whose parent is npm.
  const shellParent = process.env.npm_lifecycle_event !== undefined && process.ppid > 1 ? parentOf(process.ppid) : undefined;
  if (shellParent !== undefined && shellParent > 1) links.push({ pid: process.ppid, parent: shellParent });
  return links;
})();

/** The parent of `pid` from /proc (Linux); undefined where it cannot be read, such as a process that is gone. */
function parentOf(pid: number): number | undefined {
  if (pid === process.pid) return process.ppid;
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces and parentheses, so read after the last ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10);
    return Number.isNaN(ppid) ? undefined : ppid;
  } catch {
    return undefined;
  }
}

/** True when every process that started this one is still there: a dead parent's children are re-parented. */
export function parentsAlive(): boolean {
  return startedBy.every((link) => parentOf(link.pid) === link.parent);
}

/**
 * Resolves when the sandbox should stop: on SIGINT, SIGTERM or SIGHUP (which then no longer end the process by
 * themselves), or when its parent is gone. The caller stops the server and exits.
 */
export function untilStopped(): Promise<StopReason> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => finish(signal);
    const finish = (reason: StopReason) => {
      clearInterval(watch);
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      resolve(reason);
    };
    // The interval also keeps the event loop alive while nothing else happens.
    const watch = setInterval(() => parentsAlive() || finish('parent gone'), PARENT_POLL_MS);
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    if (!parentsAlive()) finish('parent gone');
  });
}
