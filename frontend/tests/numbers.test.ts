// The Generate preview marks the spec's numbers where they stand alone, never inside a name.
import { describe, expect, it } from "vitest";
import { markNumbers, specNumbers } from "../src/model/numbers";

const marked = (text: string, numbers: Set<string>) => markNumbers(text, numbers).filter((p) => p.mark).map((p) => p.text);

describe("the spec's numbers in generated files", () => {
  it("are marked only as words of their own", () => {
    const numbers = new Set(["8s", "8", "2", "1600", "250ms"]);
    // README.md's lines for work-queue: the 8 of k8s and the 2 of v2 are parts of names
    expect(marked("| `k8s/` | the Namespace |", numbers)).toEqual([]);
    expect(marked("Needs Docker with Compose v2. From this folder:", numbers)).toEqual([]);
    expect(marked("4 worker instances with 8 threads each process them (1600 jobs/s at most).", numbers))
      .toEqual(["8", "1600"]);
    expect(marked("timeout: 250ms\nreplicas: 2", numbers)).toEqual(["250ms", "2"]);
    expect(marked("name: backend-2", numbers)).toEqual(["2"]);
  });

  it("keep the text whole", () => {
    const text = "k8s/api.yaml: replicas: 8, timeout 250ms";
    expect(markNumbers(text, new Set(["8", "250ms"])).map((p) => p.text).join("")).toBe(text);
  });

  it("are read from the spec as words too", () => {
    expect(specNumbers({ image: "k8s-tools", timeout: "250ms", replicas: 2, p: 0.5, note: "v2 at 30s" }))
      .toEqual(new Set(["250ms", "2", "30s"]));
  });
});
