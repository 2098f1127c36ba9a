type Attrs = Record<string, string | undefined>;
type Child = Node | string | null | undefined | false;

/** Tiny element builder. Text always goes in as text nodes, so device-supplied ids cannot inject markup. */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
};
