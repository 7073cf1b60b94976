// Snowflake identifiers as the Terraform provider (1.x) reads them: split on dots outside double quotes, quotes
// stripped, case kept. The provider quotes every part when it writes SQL, so it never upper-cases anything itself.

/** A name the provider takes literally: every part double-quoted, so dots (CAROL.DIAZ@ACME.EXAMPLE) stay inside one part. */
export const quoted = (...parts: string[]): string => parts.map(quotePart).join(".");
const quotePart = (part: string): string => `"${part.includes('"') ? part.replaceAll('"', '""') : part}"`;

/** The parts of a dotted identifier, quoted or not, as the provider splits it (a CSV reader with "." as separator). */
export function identifierParts(identifier: string): string[] {
  const parts: string[] = [];
  let at = 0;
  for (;;) {
    let part = "";
    if (identifier[at] === '"') {
      at++;
      while (at < identifier.length) {
        if (identifier[at] === '"' && identifier[at + 1] === '"') (part += '"'), (at += 2);
        else if (identifier[at] === '"') break;
        else part += identifier[at++];
      }
      at++;
    } else {
      while (at < identifier.length && identifier[at] !== ".") part += identifier[at++];
    }
    parts.push(part);
    if (identifier[at] !== ".") return parts;
    at++;
  }
}

/** The last part of an identifier: a role, user, warehouse or database name however it was written. */
export const objectName = (identifier: string): string => identifierParts(identifier).at(-1) ?? identifier;
