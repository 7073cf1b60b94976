// A problem in team.yaml, located to the line so the person fixing it does not have to search.

export type RosterPath = ReadonlyArray<string | number>;

export interface RosterProblem {
  file: string;
  line: number;
  col: number;
  /** Where in the roster, e.g. `developers[2].email`. */
  path: string;
  /** What is wrong, then how to fix it. */
  message: string;
}

export const formatPath = (path: RosterPath): string =>
  path.length === 0
    ? "(root)"
    : path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`)).join("");

export const formatProblem = (problem: RosterProblem): string => {
  const sentence = /[.!?]$/.test(problem.message) ? problem.message : `${problem.message}.`;
  return `${problem.file}:${problem.line}:${problem.col}: ${problem.path}: ${sentence}`;
};

/** Thrown when a roster is invalid; carries every problem, so one run shows them all. */
export class RosterError extends Error {
  constructor(readonly problems: readonly RosterProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "RosterError";
  }
}
