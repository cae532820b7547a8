// The address names the open stored design, so a reload opens it again.
import { describe, expect, it } from "vitest";
import { parseRoute, routeHash } from "../src/model/route";

describe("the studio's address", () => {
  it("names the stored design on the pages that show it", () => {
    expect(routeHash("design", "8b09bc")).toBe("#/design/8b09bc");
    expect(routeHash("simulate", "8b09bc")).toBe("#/simulate/8b09bc");
    expect(routeHash("design", null)).toBe("#/design");
    expect(routeHash("history", "8b09bc")).toBe("#/history");
  });

  it("reads back what it wrote, and anything else as a page without a design", () => {
    expect(parseRoute("#/design/8b09bc")).toEqual({ page: "design", designId: "8b09bc" });
    expect(parseRoute(routeHash("generate", "a b/c"))).toEqual({ page: "generate", designId: "a b/c" });
    expect(parseRoute("#/design")).toEqual({ page: "design", designId: null });
    expect(parseRoute("#/compare/8b09bc")).toEqual({ page: "compare", designId: null });
    expect(parseRoute("")).toEqual({ page: "gallery", designId: null });
    expect(parseRoute("#/design/%E0")).toEqual({ page: "design", designId: null });
    expect(parseRoute("#/nowhere/x")).toEqual({ page: "gallery", designId: null });
  });
});
