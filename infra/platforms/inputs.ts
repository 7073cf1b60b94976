// Readers of resource inputs as plain data (the declared list's, a stack's, or the policy pack's props): each returns a value only
// when it has the expected shape. Pure, so the policy pack may load it.

/** A non-empty string, else undefined: an empty string names nothing. */
export const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

/** The strings of an array, in order; anything else in it is dropped, and a non-array reads as empty. */
export const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

/** A plain object, else undefined (arrays and null are not records). */
export const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
