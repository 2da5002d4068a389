// Small DOM helpers. Text from the API or the user is only ever set with textContent,
// never parsed as HTML.

let counter = 0;

/// A unique element id for `name`.
export function uniqueId(name) {
  return `f-${name}-${++counter}`;
}

/// An element with attributes (`text` sets textContent, `on*` adds a listener) and children.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

/// A labelled input with its field message slot below it.
export function field(label, name, type = "text", attributes = {}) {
  const id = uniqueId(name);
  const error = el("p", { class: "error", id: `${id}-error`, "data-error-for": name });
  const input =
    type === "textarea"
      ? el("textarea", { id, name, "aria-describedby": error.id, ...attributes })
      : el("input", { id, name, type, "aria-describedby": error.id, ...attributes });
  return el("div", { class: "field" }, el("label", { for: id, text: label }), input, error);
}

export function checkbox(label, name) {
  const id = uniqueId(name);
  const input = el("input", { id, name, type: "checkbox" });
  return el("div", { class: "check" }, input, el("label", { for: id, text: label }));
}

export function alertBox() {
  return el("div", { class: "alert", role: "alert", hidden: true });
}

/// A titled section of a page.
export function card(id, title, ...content) {
  return el("section", { class: "card", "aria-labelledby": id }, el("h2", { id, text: title }), ...content);
}

export function formatTime(text) {
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? text : at.toLocaleString();
}
