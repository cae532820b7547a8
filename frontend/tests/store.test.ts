// What counts as an unsaved change of the open design: its text, and where its nodes were
// dragged (a save keeps the layout too, so a dragged node is an edit to save).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { setField } from "../src/model/edits";
import { saveLabel, selectedEdge, unsavedEdits, useDesign } from "../src/store";

describe("unsaved edits", () => {
  it("include a node dragged since the design was loaded or saved", () => {
    const store = useDesign.getState();
    store.load("name: a\n", "a", "id-1", 1, { api: { x: 10, y: 20 } });
    expect(unsavedEdits(useDesign.getState())).toBe(false);
    useDesign.getState().move("api", 10, 20);  // dropped where it was
    expect(unsavedEdits(useDesign.getState())).toBe(false);
    useDesign.getState().move("api", 50, 20);
    expect(unsavedEdits(useDesign.getState())).toBe(true);
    useDesign.getState().saved("id-1", 2, "a", "name: a\n");
    expect(unsavedEdits(useDesign.getState())).toBe(false);
    useDesign.getState().move("db", 0, 0);  // a node placed for the first time
    expect(unsavedEdits(useDesign.getState())).toBe(true);
  });

  it("include the text", () => {
    useDesign.getState().load("name: a\n", "a");
    useDesign.getState().setText("name: b\n", "editor");
    expect(unsavedEdits(useDesign.getState())).toBe(true);
  });

  it("mark Save, for a template opened and edited as for a stored design", () => {
    useDesign.getState().load("name: a\n", "circuit-breaker");  // a template: no design id
    expect(saveLabel(useDesign.getState())).toBe("Save");
    useDesign.getState().setText("name: b\n", "editor");
    expect(saveLabel(useDesign.getState())).toBe("Save *");
    useDesign.getState().saved("id-1", 1, "circuit-breaker", "name: b\n");
    expect(saveLabel(useDesign.getState())).toBe("Save");
  });
});

describe("notices", () => {
  it("go when the edit they are about is undone, or another design opens", () => {
    const store = useDesign.getState();
    store.load("name: a\n", "a");
    useDesign.getState().setText("name: b\n", "canvas");
    useDesign.getState().notify("info", "deleted 'b': Undo (Ctrl+Z) brings it back");
    useDesign.getState().undo();
    expect(useDesign.getState().notice).toBeNull();
    useDesign.getState().notify("error", "an edit refused");
    useDesign.getState().load("name: c\n", "c");
    expect(useDesign.getState().notice).toBeNull();
  });
});

describe("the selected call", () => {
  const spec = readFileSync(join(__dirname, "fixtures/circuit-breaker.yaml"), "utf8");
  const path = ["components", "checkout", "operations", "pay", "calls", 0, "to"];

  it("keeps its form when its `to` names no component, and is drawn again once it does", () => {
    useDesign.getState().load(spec, "circuit-breaker");
    const edge = useDesign.getState().graph.edges.find((e) => e.kind === "call")!;
    useDesign.getState().select({ type: "edge", id: edge.id });
    useDesign.getState().change((text) => setField(text, path, "nowhere.op"));
    const state = useDesign.getState();
    expect(state.graph.edges.some((e) => e.id === edge.id)).toBe(false);
    expect(selectedEdge(state)).toMatchObject({ id: edge.id, caller: "checkout.pay", callee: "nowhere.op", path: edge.path });
    useDesign.getState().change((text) => setField(text, path, "payments.charge"));
    expect(selectedEdge(useDesign.getState())).toBe(useDesign.getState().graph.edges.find((e) => e.id === edge.id));
  });

  it("is gone with the call itself, or once something else is selected", () => {
    useDesign.getState().load(spec, "circuit-breaker");
    const edge = useDesign.getState().graph.edges.find((e) => e.kind === "call")!;
    useDesign.getState().select({ type: "edge", id: edge.id });
    useDesign.getState().change((text) => setField(text, path, "nowhere.op"));
    useDesign.getState().select({ type: "node", id: "payments" });
    useDesign.getState().select({ type: "edge", id: edge.id });
    expect(selectedEdge(useDesign.getState())).toBeUndefined();
    useDesign.getState().load(spec, "circuit-breaker");
    useDesign.getState().select({ type: "edge", id: edge.id });
    useDesign.getState().change((text) => setField(text, ["components", "checkout", "operations", "pay", "calls"], undefined));
    expect(selectedEdge(useDesign.getState())).toBeUndefined();
  });
});
