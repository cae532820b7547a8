// A catalog entry as the drawer shows it. An anti-pattern is a way systems fail, not a design
// to adopt: its entry reads as one (marked, with its symptoms, causes and the patterns that
// fix it), where a pattern's reads as when to use it and when not.

export interface CatalogEntry {
  category: string; use_when: string[]; avoid_when: string[];
  anti_pattern?: { symptoms: string[]; causes: string[]; fixed_by: string[] } | null;
}

export interface Section { title: string; items: string[] }

export function isAntiPattern(entry: CatalogEntry): boolean {
  return entry.category === "anti-pattern" || Boolean(entry.anti_pattern);
}

/** An anti-pattern's `avoid_when` heading: a question, since most answer "Never desirable."
 * (under "Not a problem when" that read as a contradiction) and a few name when it is fine. */
export const ANTI_AVOID_WHEN = "Is it ever acceptable?";

/** The entry's lists under their headings, empty ones left out. */
export function entrySections(entry: CatalogEntry): Section[] {
  const anti = entry.anti_pattern;
  const sections = isAntiPattern(entry)
    ? [{ title: "Symptoms", items: anti?.symptoms ?? [] }, { title: "Causes", items: anti?.causes ?? [] },
       { title: "Recognise it", items: entry.use_when }, { title: ANTI_AVOID_WHEN, items: entry.avoid_when }]
    : [{ title: "Use when", items: entry.use_when }, { title: "Avoid when", items: entry.avoid_when }];
  return sections.filter((s) => s.items.length > 0);
}

/** How many entries the catalog's list shows at first, and adds per "show more". */
export const LIST_PAGE = 40;

export interface ListView<T> { items: T[]; heading: string; more: number }

/** The first `shown` of the list's `hits` for `query` (empty: the whole catalog), a heading
 * that says how many there are, and how many the next "show more" adds (0: all are shown).
 * The hits a search marks `related` (they fix an anti-pattern that matches, and match no
 * word themselves: GET /api/patterns lists them last) are counted apart from the matches. */
export function listView<T extends { related?: boolean }>(hits: T[], shown: number, query: string): ListView<T> {
  const q = query.trim();
  const related = hits.filter((h) => h.related).length;
  const matches = hits.length - related;
  const total = q ? `${matches} ${matches === 1 ? "match" : "matches"} for '${q}'`
      + (related ? ` and ${related} related pattern${related === 1 ? "" : "s"}` : "")
    : `${hits.length} pattern${hits.length === 1 ? "" : "s"} in the catalog`;
  const items = hits.slice(0, shown);
  return {
    items, heading: items.length < hits.length ? `${total}, the first ${items.length} shown` : total,
    more: Math.min(LIST_PAGE, hits.length - items.length),
  };
}
