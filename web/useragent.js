// The browser and system of a User-Agent header in words ("Firefox on Windows"), read by
// UAParser.js 1.0.41 (MIT licence, vendor/ua-parser.min.js as published on npm; its 2.x
// versions are AGPL). That file is a UMD script, not an ES module: importing it runs it,
// and it defines `UAParser` on `window`.

import {} from "./vendor/ua-parser.min.js";

/// The parser's names that read better otherwise here.
const NAMES = {
  "Chrome Headless": "Headless Chrome",
  "Chromium OS": "ChromeOS",
  "Mac OS": "macOS",
};

function wordsFor(name) {
  if (!name) return "";
  // "Mobile Safari" on iOS is Safari; the system already says it is a phone.
  return NAMES[name] ?? name.replace(/^Mobile /, "");
}

/// "Chrome on Linux", "Safari on iOS", "Firefox"; "Unknown browser" when the header is
/// absent or names no browser the parser knows.
export function describeUserAgent(header) {
  if (!header || typeof window.UAParser !== "function") return "Unknown browser";
  const { browser, os } = new window.UAParser(header).getResult();
  const name = wordsFor(browser.name) || "Unknown browser";
  const system = wordsFor(os.name);
  return system ? `${name} on ${system}` : name;
}
