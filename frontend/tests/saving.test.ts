// Saving over a design that another tab deleted, or saved again, since it was opened.
import { describe, expect, it } from "vitest";
import { ApiError, type Design } from "../src/api";
import { saveDesign, type SaveClient } from "../src/model/saving";

const stored = (id: string, version: number): Design => ({
  id, name: "good", created_at: "", updated_at: "", spec: "name: good\n", layout: {}, version, versions: [],
});

function client(updateFails: ApiError | null) {
  const calls: string[] = [];
  const fake: SaveClient = {
    createDesign: (name, spec) => { calls.push(`create ${name} ${spec}`); return Promise.resolve(stored("new-id", 1)); },
    updateDesign: (id, body) => {
      calls.push(`update ${id} ${body.base_version ?? "-"}`);
      return updateFails && body.base_version !== undefined ? Promise.reject(updateFails) : Promise.resolve(stored(id, 3));
    },
  };
  return { fake, calls };
}
const request = { id: "old-id", version: 2, name: "good", spec: "name: edited\n", layout: {} };

describe("saving a design", () => {
  it("deleted meanwhile: asks, and keeps the edits as a new design", async () => {
    const { fake, calls } = client(new ApiError(404, "no design 'old-id'"));
    const questions: string[] = [];
    const saved = await saveDesign(fake, (q) => { questions.push(q); return true; }, request);
    expect(saved.id).toBe("new-id");
    expect(calls).toEqual(["update old-id 2", "create good name: edited\n"]);
    expect(questions[0]).toContain("'good' is no longer stored");
  });

  it("deleted meanwhile, and the user says no: a message that says what to do", async () => {
    const { fake, calls } = client(new ApiError(404, "no design 'old-id'"));
    await expect(saveDesign(fake, () => false, request)).rejects.toThrow(/deleted after you opened it; Save again to keep your edits as a new design/);
    expect(calls).toEqual(["update old-id 2"]);
  });

  it("saved again meanwhile: asks, and adds this one as the newest version", async () => {
    const { fake, calls } = client(new ApiError(409, "version 3 was saved after version 2"));
    expect((await saveDesign(fake, () => true, request)).version).toBe(3);
    expect(calls).toEqual(["update old-id 2", "update old-id -"]);
    await expect(saveDesign(fake, () => false, request)).rejects.toThrow(/version 3 was saved/);
  });

  it("never stored: creates it", async () => {
    const { fake, calls } = client(null);
    await saveDesign(fake, () => false, { ...request, id: null, version: null });
    expect(calls).toEqual(["create good name: edited\n"]);
  });
});
