// JSON *text* handling without recursion. V8's JSON.parse copes with any nesting, JSON.stringify does
// not (it recurses and throws RangeError a few thousand levels deep). Wherever the host forwards a
// value it received as JSON text (an Event Grid event, an orchestration input), it forwards the text
// rather than re-serializing the parsed value, so a deeply nested request body reaches the app as in
// Azure instead of failing inside the host.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Whether `text` parses as JSON. */
export function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The members of the top-level array or object of `text` (which must be valid JSON), each as its own
 * text: array elements, or `"key": value` for an object. A primitive has no members.
 */
export function topLevelMembers(text: string): string[] {
  const members: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (isWhitespace(c)) continue;
    if (depth === 0 && c !== OPEN_BRACKET && c !== OPEN_BRACE) return members;
    if (depth === 1 && start < 0 && c !== COMMA && c !== CLOSE_BRACKET && c !== CLOSE_BRACE) start = i;
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) depth++;
    else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
      if (depth === 0) {
        if (start >= 0) members.push(text.slice(start, i).trim());
        return members;
      }
    } else if (c === COMMA && depth === 1) {
      members.push(text.slice(start, i).trim());
      start = -1;
    }
  }
  return members;
}

/** The top-level `[key, value text]` pairs of a JSON object text (valid JSON); [] for anything else. */
export function topLevelEntries(text: string): Array<[string, string]> {
  if (text.trimStart().charCodeAt(0) !== OPEN_BRACE) return [];
  const entries: Array<[string, string]> = [];
  for (const member of topLevelMembers(text)) {
    // The key is a string literal: find its closing quote, then the colon after it.
    let end = 1;
    while (end < member.length && member.charCodeAt(end) !== QUOTE) end += member.charCodeAt(end) === BACKSLASH ? 2 : 1;
    const colon = member.indexOf(String.fromCharCode(COLON), end + 1);
    entries.push([JSON.parse(member.slice(0, end + 1)) as string, member.slice(colon + 1).trim()]);
  }
  return entries;
}

/** `text` as a JSON value text: itself when it is JSON, else a JSON string of it; "null" when absent. */
export function jsonValueText(text: string | undefined | null): string {
  if (text === undefined || text === null) return "null";
  return isJsonText(text) ? text : JSON.stringify(text);
}

/** JSON.stringify(object) with extra members whose values are given as JSON texts (spliced, not re-serialized). */
export function stringifyWithRawMembers(object: Record<string, unknown>, raw: Record<string, string>): string {
  const head = JSON.stringify(object);
  const extra = Object.entries(raw).map(([name, value]) => `${JSON.stringify(name)}:${value}`);
  if (extra.length === 0) return head;
  return head === "{}" ? `{${extra.join(",")}}` : `${head.slice(0, -1)},${extra.join(",")}}`;
}
