// Times relative to now ("5 minutes ago", "yesterday"), with the exact time on hover.

import { el } from "./dom.js";

/// The largest unit that fits is the one said: 90 minutes is "2 hours ago".
const UNITS = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["week", 7 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

const relative = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" });

/// How long ago `seconds` (negative: in the past) is, in words. A time a little ahead of
/// this device's clock is "now".
function inWords(seconds) {
  const past = Math.min(0, seconds);
  for (const [unit, size] of UNITS) {
    if (-past >= size) return relative.format(Math.round(past / size), unit);
  }
  return relative.format(past, "second");
}

/// A `<time>` element for an RFC 3339 time from the API: relative to now, the exact
/// local time in its `title`. Text that is not a time is shown as it is.
export function timeAgo(text) {
  const at = new Date(text);
  if (text == null || Number.isNaN(at.getTime())) return document.createTextNode(text ?? "");
  const seconds = Math.round((at.getTime() - Date.now()) / 1000);
  return el("time", { datetime: at.toISOString(), title: at.toLocaleString() }, inWords(seconds));
}
