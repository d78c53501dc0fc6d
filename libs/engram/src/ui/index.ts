/**
 * `engram/ui`: the memory inspector behind `engram ui`, for embedding it elsewhere (a dev server,
 * a test). `startInspector` serves it; `createInspectorApp` is the Hono app alone.
 */
export { startInspector, type Inspector, type StartInspectorOptions } from "./server.js";
export { createInspectorApp, type InspectorAppOptions } from "./app.js";
export { InspectorSource, type InspectorSourceOptions, type UserSummary } from "./source.js";
export { pageOf, statsOf, type RecordPage, type RecordStats } from "./records_view.js";
export {
  uiOptionsSchema,
  listQuerySchema,
  searchQuerySchema,
  patchBodySchema,
  eraseBodySchema,
  type UiOptions,
  type ListQuery,
  type SearchQuery,
  type PatchBody,
  type EraseBody,
} from "./schemas.js";
