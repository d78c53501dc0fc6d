/** The models `reembed` tests move a data folder to: the test hash embedding under other names and sizes. */
import { HashEmbeddings } from "./hash_embeddings.js";

/** The test embedding at 128 dimensions, under its own model id. */
export class Target extends HashEmbeddings {
  readonly modelId = "hash-target@128";
  constructor() {
    super(128);
  }
}

/** The test embedding at 32 dimensions, under its own model id. */
export class Other extends HashEmbeddings {
  readonly modelId = "hash-other@32";
  constructor() {
    super(32);
  }
}

/** {@link Target}, running `during` inside its `at`-th embedding call (a write, an erase, another run mid-copy). */
export class SlowTarget extends Target {
  private calls = 0;
  constructor(
    private readonly during: () => Promise<void>,
    private readonly at = 1,
  ) {
    super();
  }
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    this.calls += 1;
    if (this.calls === this.at) await this.during();
    return super.embedDocuments(texts);
  }
}
