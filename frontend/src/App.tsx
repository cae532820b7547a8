// The studio's shell: the pages (hash routes, so the server only serves static files), the
// validation loop that follows every change of the spec, keyboard undo/redo and notices.
import { useEffect, useState } from "react";
import { api, ApiError, type TemplateCard } from "./api";
import { findingsInPageWords } from "./model/budget";
import { ComparePage } from "./pages/Compare";
import { Notice } from "./components/Notice";
import { DesignPage } from "./pages/Design";
import { GalleryPage } from "./pages/Gallery";
import { GeneratePage } from "./pages/Generate";
import { HistoryPage } from "./pages/History";
import { PatternDrawer } from "./pages/Patterns";
import { SimulatePage } from "./pages/Simulate";
import { PAGES, parseRoute, routeHash, type Page } from "./model/route";
import { mayDiscard, unsavedEdits, useDesign } from "./store";

/** Open the stored design `id` the address names. */
async function openLinked(id: string): Promise<void> {
  const { notify, load } = useDesign.getState();
  try {
    const design = await api.design(id);
    if (mayDiscard()) load(design.spec, design.name, design.id, design.version, design.layout);
  } catch (error) {
    notify("error", `could not open the design in the address: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const VALIDATE_AFTER_MS = 250;

/** Write the address without a new history entry (and without a hashchange). */
function replaceHash(hash: string): void {
  if (window.location.hash !== hash) window.history.replaceState(null, "", hash);
}

export function App() {
  const [page, setPage] = useState<Page>(() => parseRoute(window.location.hash).page);
  const [opening, setOpening] = useState(false);
  const [schema, setSchema] = useState<Record<string, unknown> | null>(null);
  const [pattern, setPattern] = useState<string | null>(null);
  const { text, parsed, setValidation, load, undo, redo, designId } = useDesign();

  useEffect(() => {
    // The address names the stored design the page shows: a reload or the link opens it
    // again (over unsaved edits only when the person agrees, as elsewhere).
    const follow = () => {
      const route = parseRoute(window.location.hash);
      setPage(route.page);
      if (route.designId === null || route.designId === useDesign.getState().designId) return;
      setOpening(true);
      void openLinked(route.designId).finally(() => setOpening(false));  // the address follows
    };
    follow();
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  useEffect(() => {
    // the page as the address has it: a navigation just made may not have reached `page` yet
    if (!opening) replaceHash(routeHash(parseRoute(window.location.hash).page, designId));
  }, [designId, opening]);
  useEffect(() => { api.schema().then(setSchema, () => undefined); }, []);
  useEffect(() => {
    // Reloading or closing the tab would drop unsaved edits (the open design lives in this
    // page only): the browser asks first, as mayDiscard does inside the studio.
    const guard = (event: BeforeUnloadEvent) => {
      if (unsavedEdits(useDesign.getState())) event.preventDefault();
    };
    window.addEventListener("beforeunload", guard);
    return () => window.removeEventListener("beforeunload", guard);
  }, []);
  useEffect(() => {
    if (!text || parsed.syntaxErrors.length) { setValidation(null); return; }
    let current = true;
    const timer = setTimeout(() => {
      api.validate(text).then((v) => current && setValidation(findingsInPageWords(v)), (e) => {
        if (current) useDesign.getState().notify("error", e instanceof ApiError ? e.message : String(e));
      });
    }, VALIDATE_AFTER_MS);
    return () => { current = false; clearTimeout(timer); };
  }, [text, parsed, setValidation]);
  useEffect(() => {
    const keys = (e: KeyboardEvent) => {
      const inEditor = (e.target as HTMLElement | null)?.closest?.(".cm-editor, input, select, textarea");
      const key = e.key.toLowerCase();
      if (inEditor || !(e.ctrlKey || e.metaKey) || (key !== "z" && key !== "y")) return;
      e.preventDefault();
      if (e.shiftKey || key === "y") redo(); else undo();
    };
    window.addEventListener("keydown", keys);
    return () => window.removeEventListener("keydown", keys);
  }, [undo, redo]);
  // A notice is about the page it was given on ("applied …: run the simulation again",
  // "refused …"): another page drops it, since it says nothing about that page.
  useEffect(() => { useDesign.setState({ notice: null }); }, [page]);

  const go = (next: Page) => { window.location.hash = routeHash(next, useDesign.getState().designId); };
  const openTemplate = (t: TemplateCard) => { if (mayDiscard()) { load(t.spec, t.id); go("design"); } };
  const openTemplateById = async (id: string) => {
    try { const t = await api.template(id); openTemplate(t); setPattern(null); } catch (e) { useDesign.getState().notify("error", String((e as Error).message)); }
  };
  const needsDesign = page !== "gallery" && page !== "history" && page !== "compare" && !text;
  const empty = opening ? <div className="empty"><p>Opening the design…</p></div> : (
    <div className="empty"><p>No design open yet.</p><button type="button" className="primary" onClick={() => go("gallery")}>Pick a template</button></div>);

  return (
    <div className="app">
      <header>
        <span className="brand">ScaleSim <b>Studio</b></span>
        <nav>{PAGES.map((p) => (
          <a key={p} href={routeHash(p, designId)} className={p === page ? "active" : ""} data-page={p}>{p[0].toUpperCase() + p.slice(1)}</a>
        ))}</nav>
        <div className="header-end">
          <Notice />
          <span className="design-name" title={text ? useDesign.getState().name : undefined}>{text ? useDesign.getState().name : ""}</span>
        </div>
      </header>
      <main>
        {needsDesign ? empty : page === "gallery" ? <GalleryPage onOpen={openTemplate} onPattern={(id) => setPattern(id)} />
          : page === "design" ? <DesignPage schema={schema} onPattern={(id) => setPattern(id)} />
          : page === "simulate" ? <SimulatePage />
          : page === "compare" ? <ComparePage />
          : page === "generate" ? <GeneratePage />
          : <HistoryPage onOpened={() => go("design")} onRun={() => go("simulate")} />}
      </main>
      {pattern !== null && <PatternDrawer initial={pattern} onClose={() => setPattern(null)} onTemplate={(id) => void openTemplateById(id)} />}
    </div>
  );
}
