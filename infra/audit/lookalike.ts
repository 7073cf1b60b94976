// Schema names that read as prod_ to a person but are not: another case, invisible or odd whitespace, a fullwidth
// underscore, a Cyrillic or Greek letter. They are shown quoted and escaped, so they cannot pass for the real name.

/** Letters of other scripts drawn like the Latin ones (a subset of Unicode's confusables, the ones that fit names). */
const CONFUSABLES: Readonly<Record<string, string>> = {
  "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0445": "x", "\u0443": "y", "\u0456": "i",
  "\u0455": "s", "\u0458": "j", "\u0501": "d", "\u051b": "q", "\u051d": "w", "\u04bb": "h", "\u04cf": "l", "\u0261": "g",
  "\u03bf": "o", "\u03b1": "a", "\u03c1": "p", "\u03bd": "v", "\u03b9": "i", "\u03ba": "k", "\u03c4": "t", "\u03c5": "u",
  "\u0131": "i", "\u0237": "j",
};

/** What a person reads: NFKC (fullwidth, ligatures), lower case, no whitespace or invisible format characters, look-alike letters folded. */
export function skeleton(name: string): string {
  return [...name.normalize("NFKC").toLowerCase()]
    .filter((ch) => !/[\s\p{Cf}]/u.test(ch))
    .map((ch) => CONFUSABLES[ch] ?? ch)
    .join("");
}

/** The name it passes for, when `name` is not a `prefix` name but reads as one; undefined otherwise. */
export function looksLikePrefixed(name: string, prefix: string): string | undefined {
  if (name.startsWith(prefix)) return undefined;
  const read = skeleton(name);
  return read.startsWith(prefix) ? read : undefined;
}

/** The name in double quotes, every character outside printable ASCII as \uXXXX: `"pr\u043ed_sales"`, `"prod_sales "`. */
export function quotedName(name: string): string {
  const escaped = [...name]
    .map((ch) => {
      const code = ch.codePointAt(0)!;
      if (ch === '"' || ch === "\\") return `\\${ch}`;
      if (code >= 0x21 && code <= 0x7e) return ch;
      return code <= 0xffff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\u{${code.toString(16)}}`;
    })
    .join("");
  return `"${escaped}"`;
}
