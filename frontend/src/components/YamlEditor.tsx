// The spec as YAML in CodeMirror 6: completion and hover docs from the spec's JSON Schema,
// and the server's located errors and lint findings as diagnostics on their lines.
import { yaml, yamlLanguage } from "@codemirror/lang-yaml";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { EditorState, Prec, type Text } from "@codemirror/state";
import { EditorView, hoverTooltip, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { stateExtensions, updateSchema } from "codemirror-json-schema";
import { yamlCompletion, yamlSchemaHover } from "codemirror-json-schema/yaml";
import { useEffect, useRef } from "react";
import type { Finding, SpecIssue } from "../api";

interface Props {
  text: string;
  onChange: (text: string) => void;
  /** The studio's undo and redo, which the editor's undo and redo keys call (see below). */
  onUndo: () => void;
  onRedo: () => void;
  errors: SpecIssue[];
  findings: Finding[];
  schema: Record<string, unknown> | null;
  focusLine?: number | null;
}

function position(doc: Text, line: number, column: number): number {
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  return Math.min(l.from + Math.max(column - 1, 0), l.to);
}

function diagnostics(doc: Text, errors: SpecIssue[], findings: Finding[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const e of errors) {
    const from = position(doc, e.line, e.column);
    out.push({ from, to: Math.max(from, doc.lineAt(from).to), severity: "error",
      message: e.path ? `${e.path}: ${e.message}` : e.message, source: "scalesim" });
  }
  for (const f of findings) {
    if (f.line < 1) continue;
    const from = position(doc, f.line, f.column);
    out.push({ from, to: Math.max(from, doc.lineAt(from).to), severity: f.severity === "error" ? "error" : f.severity === "info" ? "info" : "warning",
      message: `${f.rule} ${f.name}: ${f.message}${f.fixes.length ? ` — fix with ${f.fixes.join(", ")}` : ""}`,
      source: "scalesim lint" });
  }
  return out;
}

export function YamlEditor({ text, onChange, onUndo, onRedo, errors, findings, schema, focusLine }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const change = useRef(onChange);
  change.current = onChange;
  const history = useRef({ undo: onUndo, redo: onRedo });
  history.current = { undo: onUndo, redo: onRedo };

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: text,
        extensions: [
          // One history for the whole design: the editor's undo and redo keys (and the
          // browser's Edit menu) step through the studio's history, the one the Undo button
          // and the canvas use, so an editor undo cannot bring back or drop a canvas edit the
          // buttons know otherwise. basicSetup's own history is never reached.
          Prec.highest(keymap.of([
            { key: "Mod-z", run: () => { history.current.undo(); return true; }, preventDefault: true },
            { key: "Mod-Shift-z", run: () => { history.current.redo(); return true; }, preventDefault: true },
            { key: "Mod-y", run: () => { history.current.redo(); return true; }, preventDefault: true },
          ])),
          Prec.highest(EditorView.domEventHandlers({
            beforeinput: (event) => {
              const step = event.inputType === "historyUndo" ? history.current.undo
                : event.inputType === "historyRedo" ? history.current.redo : null;
              if (!step) return false;
              event.preventDefault();
              step();
              return true;
            },
          })),
          basicSetup,
          lintGutter(),
          yaml(),
          yamlLanguage.data.of({ autocomplete: yamlCompletion() }),
          hoverTooltip(yamlSchemaHover()),
          stateExtensions(),
          EditorView.updateListener.of((update) => {
            if (update.docChanged && update.transactions.some((t) => t.isUserEvent("input") || t.isUserEvent("delete") || t.isUserEvent("move"))) {
              change.current(update.state.doc.toString());
            }
          }),
          EditorView.lineWrapping,
          EditorView.theme({ "&": { height: "100%" }, ".cm-scroller": { fontFamily: "var(--mono)" } }),
        ],
      }),
    });
    view.current = editor;
    return () => editor.destroy();
    // The editor is made once; text changes arrive through the effect below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    if (view.current && schema) updateSchema(view.current, schema);
  }, [schema]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString();
    if (current === text) return;
    // Replace only the part that differs, so the cursor and scroll stay where they were.
    let start = 0;
    while (start < current.length && start < text.length && current[start] === text[start]) start++;
    let endOld = current.length;
    let endNew = text.length;
    while (endOld > start && endNew > start && current[endOld - 1] === text[endNew - 1]) { endOld--; endNew--; }
    editor.dispatch({ changes: { from: start, to: endOld, insert: text.slice(start, endNew) } });
  }, [text]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    editor.dispatch(setDiagnostics(editor.state, diagnostics(editor.state.doc, errors, findings)));
  }, [errors, findings, text]);

  useEffect(() => {
    const editor = view.current;
    if (!editor || !focusLine) return;
    const line = editor.state.doc.line(Math.min(focusLine, editor.state.doc.lines));
    editor.dispatch({ selection: { anchor: line.from }, effects: EditorView.scrollIntoView(line.from, { y: "center" }) });
  }, [focusLine]);

  return <div className="yaml-editor" ref={host} data-testid="yaml-editor" />;
}
