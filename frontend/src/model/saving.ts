// Saving the open design: a new version of the stored one, or a new design. Two things may
// have happened in the store since it was opened (another tab, another person): a newer
// version was saved (409), or the design was deleted (404). Either way the user decides, and
// the edits are never lost.
import { ApiError, type Design } from "../api";

export interface SaveClient {
  createDesign: (name: string, spec: string, layout: object) => Promise<Design>;
  updateDesign: (id: string, body: { name: string; spec: string; layout: object; base_version?: number }) => Promise<Design>;
}
export interface SaveRequest { id: string | null; version: number | null; name: string; spec: string; layout: object }
/** Asks the user a yes/no question (window.confirm in the page). */
export type Ask = (question: string) => boolean;

/** Save `request`: as a new version of design `id` from `version`, or as a new design when
 * there is no id, or when the design was deleted and the user agrees to keep it as new. */
export async function saveDesign(client: SaveClient, ask: Ask, request: SaveRequest): Promise<Design> {
  const { id, version, name, spec, layout } = request;
  if (id === null) return client.createDesign(name, spec, layout);
  const body = { name, spec, layout };
  try {
    return await client.updateDesign(id, version === null ? body : { ...body, base_version: version });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 409 &&
      ask(`${error.message}.\n\nSave yours as the newest version anyway? The other save stays in the history.`)) {
      return client.updateDesign(id, body);
    }
    if (error.status !== 404) throw error;
    if (ask(`'${name}' is no longer stored: it was deleted (in another tab, or by someone else) after you opened it.\n\n` +
      "Save your edits as a new design?")) return client.createDesign(name, spec, layout);
    throw new ApiError(404, `not saved: '${name}' was deleted after you opened it; ` +
      "Save again to keep your edits as a new design");
  }
}
