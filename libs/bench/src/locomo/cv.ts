/**
 * Leave-one-group-out cross-validation over a grid of settings: for each group (a LoCoMo
 * conversation), the setting with the best mean score on the *other* groups' items is chosen and
 * scored on the held-out group. The held-out scores are the honest figure; the in-sample best is
 * kept beside them to show how much choosing on the test set flatters.
 */

export interface Fold<S> {
  heldOut: string;
  chosen: S;
  /** Mean score of the chosen setting on the training groups' items. */
  trainScore: number;
  /** Mean score of the chosen setting on the held-out group's items. */
  heldOutScore: number;
}

export interface CrossValidation<S> {
  folds: Array<Fold<S>>;
  /** Mean of the held-out scores, one per group (groups weigh equally, whatever their size). */
  heldOutMean: number;
  /** The best setting over all items, and its score: optimistic by construction. */
  inSample: { setting: S; score: number };
}

/**
 * `groups[i]` names item i's group; `score(setting)` returns one score per item, in item order.
 * Ties go to the earlier setting of the grid, so the grid's order is the prior.
 */
export function crossValidate<S>(groups: readonly string[], settings: readonly S[], score: (setting: S) => readonly number[]): CrossValidation<S> {
  if (settings.length === 0) throw new Error("crossValidate: no settings");
  const names = [...new Set(groups)];
  if (names.length < 2) throw new Error("crossValidate: needs at least two groups");
  const scores = settings.map((setting) => {
    const values = score(setting);
    if (values.length !== groups.length) throw new Error(`crossValidate: ${values.length} scores for ${groups.length} items`);
    return values;
  });
  const mean = (values: readonly number[], keep: (group: string) => boolean): number => {
    let sum = 0;
    let n = 0;
    values.forEach((value, i) => {
      if (keep(groups[i]!)) {
        sum += value;
        n += 1;
      }
    });
    return n > 0 ? sum / n : 0;
  };
  const argmax = (keep: (group: string) => boolean): { index: number; value: number } => {
    let index = 0;
    let value = -Infinity;
    scores.forEach((values, i) => {
      const m = mean(values, keep);
      if (m > value) {
        value = m;
        index = i;
      }
    });
    return { index, value };
  };
  const folds = names.map((heldOut): Fold<S> => {
    // The choice sees only the training groups: the held-out group's items are filtered out here.
    const train = argmax((group) => group !== heldOut);
    return {
      heldOut,
      chosen: settings[train.index]!,
      trainScore: train.value,
      heldOutScore: mean(scores[train.index]!, (group) => group === heldOut),
    };
  });
  const all = argmax(() => true);
  return {
    folds,
    heldOutMean: folds.reduce((sum, fold) => sum + fold.heldOutScore, 0) / folds.length,
    inSample: { setting: settings[all.index]!, score: all.value },
  };
}
