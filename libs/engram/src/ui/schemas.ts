import { z } from "zod";
import { unsafeIdReason } from "../core/text.js";
import { MEMORY_KINDS } from "../core/types.js";

/**
 * Every input the inspector takes, as zod schemas: the CLI's flags, the query strings of pages and
 * JSON endpoints, and the bodies of changes. The CLI and the server share these types, so a flag
 * and the option it becomes cannot drift apart.
 */

const MAX_ID = 256;
/**
 * A user, memory or thread id exactly as given: never trimmed, since " alice" and "alice" are two
 * users to `Memory` (trimming showed, and let an edit erase, the other one); ids `Memory` would
 * refuse (blank, control characters) are refused here.
 */
const id = z
  .string()
  .min(1)
  .max(MAX_ID)
  .superRefine((value, ctx) => {
    const reason = unsafeIdReason(value);
    if (reason !== undefined) ctx.addIssue({ code: "custom", message: `the id ${reason}` });
  });
/** A form's empty choice ("any") arrives as an empty parameter: the same as none. */
const unset = (value: unknown) => (value === "" ? undefined : value);

/** `engram ui` options, after commander has parsed the flags. */
export const uiOptionsSchema = z.object({
  /** Data folder: engram.sqlite (history, usage) and the local server's data. */
  dataDir: z.string().min(1),
  /** An existing Chroma server instead of the local one of the data folder. */
  chromaUrl: z.url().optional(),
  /** The app's shared state: postgres://... for PostgreSQL, or a folder of SQLite state (default: the data folder). */
  state: z.string().min(1).optional(),
  /** Collection prefix. */
  prefix: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/).default("engram"),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65_535).default(0),
  /** Where to listen. Only 127.0.0.1 unless given explicitly. */
  host: z.string().min(1).default("127.0.0.1"),
  /** Changes (edit, delete, erase a user) are refused unless this is set. */
  allowEdit: z.boolean().default(false),
});
export type UiOptions = z.input<typeof uiOptionsSchema>;
export type ResolvedUiOptions = z.output<typeof uiOptionsSchema>;

/** Query-string numbers arrive as text. */
const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const weight = z.coerce.number().finite().min(0).max(100).optional();

/** `GET /users/:user` and `GET /api/users/:user/memories`: one page of a user's memories. */
export const listQuerySchema = z.object({
  kind: z.preprocess(unset, z.enum(MEMORY_KINDS as [string, ...string[]]).optional()),
  thread: z.string().max(MAX_ID).optional(),
  validity: z.enum(["current", "invalid", "all"]).default("all"),
  text: z.string().max(500).optional(),
  sort: z.enum(["newest", "oldest", "importance"]).default("newest"),
  page: int(1, 1_000_000, 1),
  size: int(1, 500, 50),
});
export type ListQuery = z.output<typeof listQuerySchema>;

/** `GET /api/users/:user/search` and the search page: a query and, optionally, the ranker's weights for this call. */
export const searchQuerySchema = z.object({
  q: z.string().trim().min(1).max(2_000),
  limit: int(1, 100, 10),
  relevance: weight,
  lexical: weight,
  recency: weight,
  importance: weight,
  neighbour: weight,
  includeInvalid: z.enum(["true", "false"]).default("false"),
});
export type SearchQuery = z.output<typeof searchQuerySchema>;

/** `PATCH /api/users/:user/memories/:id`: what an edit may change. */
export const patchBodySchema = z
  .object({
    content: z.string().min(1).max(100_000).optional(),
    importance: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((body) => body.content !== undefined || body.importance !== undefined, "Give content or importance.");
export type PatchBody = z.output<typeof patchBodySchema>;

/** `POST /api/users/:user/erase`: the user's id typed again, as confirmation. */
export const eraseBodySchema = z.object({ confirm: z.string().min(1).max(MAX_ID) }).strict();
export type EraseBody = z.output<typeof eraseBodySchema>;

/** A path's user or memory id. */
export const idSchema = id;
