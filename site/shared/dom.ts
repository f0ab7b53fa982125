// Tiny DOM helpers so page modules can build markup without a framework and without innerHTML.

type Attributes = Record<string, string | number | boolean | undefined>;
type Child = Node | string | number | null | undefined | false;

/**
 * Creates an element. Attributes set to `false`/`undefined` are skipped; `true` sets an empty attribute.
 * Example: `h('a', { href: '/jobs', 'data-testid': 'link' }, 'Jobs')`.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)));
  return element;
}

/** The element with this id; throws early (at page start) if the HTML and the script disagree. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing #${id} in the page`);
  return element as T;
}

/** Sets text only when it changed, so frequent refreshes do not disturb selection or screen readers. */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
