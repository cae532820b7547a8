// What counts as an unsaved change of the open design: its text, and where its nodes were
// dragged (a save keeps the layout too, so a dragged node is an edit to save).
import { describe, expect, it } from "vitest";
import { unsavedEdits, useDesign } from "../src/store";

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
