/** Per-user store revisions (state/types.ts `RevisionState`), in `store_revisions`. */
import type { RevisionBump, RevisionState } from "../types.js";
import type { PgHandle } from "./handle.js";

/**
 * Each user's store revision. New values come from one sequence (`store_revision_seq`), so a
 * value is never taken twice, even by a user erased and written again. A bump locks the user's
 * row while it reads and replaces it, so two replicas never return the same `before`; when the
 * user has no row, both may insert, and both return `before: null`, which no reader takes as
 * current.
 */
export class PostgresRevisions implements RevisionState {
  constructor(private readonly handle: PgHandle) {}

  private get table(): string {
    return this.handle.table("store_revisions");
  }

  async read(userId: string): Promise<number | null> {
    const rows = await this.handle.query<{ revision: string }>("revisions.read", `SELECT revision FROM ${this.table} WHERE user_id = $1`, [userId]);
    return rows[0] === undefined ? null : Number(rows[0].revision);
  }

  async bump(userId: string): Promise<RevisionBump> {
    const seq = this.handle.table("store_revision_seq");
    const updated = await this.handle.query<{ before: string; after: string }>(
      "revisions.bump",
      `UPDATE ${this.table} AS t SET revision = nextval('${seq}') FROM (SELECT revision FROM ${this.table} WHERE user_id = $1 FOR UPDATE) AS old
       WHERE t.user_id = $1 RETURNING old.revision AS before, t.revision AS after`,
      [userId],
    );
    if (updated[0]) return { before: Number(updated[0].before), after: Number(updated[0].after) };
    const inserted = await this.handle.query<{ after: string }>(
      "revisions.bump",
      `INSERT INTO ${this.table} (user_id, revision) VALUES ($1, nextval('${seq}'))
       ON CONFLICT (user_id) DO UPDATE SET revision = EXCLUDED.revision RETURNING revision AS after`,
      [userId],
    );
    return { before: null, after: Number(inserted[0]!.after) };
  }

  async clear(): Promise<void> {
    await this.handle.query("revisions.clear", `DELETE FROM ${this.table}`);
  }
}
