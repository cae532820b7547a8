// The studio's address: `#/<page>`, and `#/<page>/<design id>` on the pages that show the
// open design when it is a stored one, so that a reload (or the link) opens it again.
export const PAGES = ["gallery", "design", "simulate", "compare", "generate", "history"] as const;
export type Page = (typeof PAGES)[number];
/** The pages that show the open design, whose address names it. */
const DESIGN_PAGES: readonly Page[] = ["design", "simulate", "generate"];

export interface Route { page: Page; designId: string | null }

export function parseRoute(hash: string): Route {
  const [name, id] = hash.replace(/^#\/?/, "").split("/", 2);
  const page = (PAGES as readonly string[]).includes(name) ? (name as Page) : "gallery";
  return { page, designId: DESIGN_PAGES.includes(page) && id ? decoded(id) : null };
}

function decoded(id: string): string | null {
  try {
    return decodeURIComponent(id);
  } catch {  // a '%' that starts no escape: no id
    return null;
  }
}

export function routeHash(page: Page, designId: string | null): string {
  return DESIGN_PAGES.includes(page) && designId ? `#/${page}/${encodeURIComponent(designId)}` : `#/${page}`;
}
