// Importing a YAML file as a design refuses what is not a spec at all and imports the rest.
import { describe, expect, it } from "vitest";
import { imported, refusal } from "../src/model/importing";

describe("import refusal", () => {
  it("imports a spec, valid or not", () => {
    expect(refusal("a.yaml", "scalesim: 1\nname: a\ncomponents: {}\n")).toBeNull();
    expect(refusal("a.yaml", "components:\n  api: {workers: 0}\n")).toBeNull();
  });
  it("refuses a binary file", () => {
    expect(refusal("p.yaml", "\u0089PNG\r\n\u001a\n\u0000\u0000")).toBe("p.yaml: not a text file");
  });
  it("refuses text that is not YAML, naming the line", () => {
    expect(refusal("b.yaml", "name: a\nkey: \"open\n")).toMatch(/^b\.yaml:3:1: not YAML: Missing closing/);
  });
  it("refuses YAML that is not a mapping", () => {
    expect(refusal("l.yaml", "- a\n- b\n")).toMatch(/^l\.yaml: a spec is a YAML mapping/);
    expect(refusal("e.yaml", "")).toMatch(/^e\.yaml: a spec is a YAML mapping/);
  });
  it("points Kubernetes and Compose files at scalesim import", () => {
    expect(refusal("d.yaml", "apiVersion: apps/v1\nkind: Deployment\n")).toMatch(/scalesim import/);
    expect(refusal("c.yaml", "services:\n  web: {image: nginx}\n")).toMatch(/scalesim import/);
    expect(refusal("x.yaml", "hello: world\n")).toBe("x.yaml: not a ScaleSim spec (it has neither scalesim nor components)");
  });
  it("points a Kubernetes file of several documents at scalesim import too", () => {
    const manifest = "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: apps/v1\nkind: Deployment\n";
    expect(refusal("k.yaml", manifest)).toBe("k.yaml: not a ScaleSim spec (it holds 2 YAML documents, "
      + "a spec is one); turn Kubernetes or Compose files into one with scalesim import");
    expect(refusal("two.yaml", "scalesim: 1\n---\nscalesim: 1\n")).toBe(
      "two.yaml: not a ScaleSim spec (it holds 2 YAML documents, a spec is one)");
    expect(refusal("s.yaml", "apiVersion: v1\n---\nkind: \"open\n")).toMatch(/^s\.yaml:4:1: not YAML: Missing closing/);
  });
  it("says how many problems the imported spec has", () => {
    expect(imported("a", 0)).toBe("imported a");
    expect(imported("a", 1)).toBe("imported a with 1 problem: open it to see each on its line");
    expect(imported("a", 3)).toMatch(/^imported a with 3 problems/);
  });
});
