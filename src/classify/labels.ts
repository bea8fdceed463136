/** The labelled samples that classification uses, and what was left out and why. */
export interface LabelPlan {
  /** Sorted class names that take part. */
  classes: string[];
  /** Indices (into the latent rows) of the samples that take part. */
  rows: Int32Array;
  /** Class index of each row in `rows`. */
  y: Int32Array;
  /** Members per class, aligned with `classes`. */
  classCounts: number[];
  /** Folds used: the requested folds, or fewer when a class is smaller. */
  folds: number;
  /** Samples without a label. */
  unlabelled: number;
  /** Classes left out, with their size and the reason. */
  dropped: { label: string; count: number; reason: string }[];
  warnings: string[];
  /** Reason classification cannot run (fewer than two usable classes), or null. */
  skipReason: string | null;
}

/**
 * Decides which labelled samples take part and with how many folds. A class with one member
 * cannot be in a training and a test fold at once, so it is always left out. A class smaller
 * than the requested folds either lowers the folds ('reduce-folds') or is left out ('drop').
 */
export function planLabels(labels: readonly (string | null)[], requestedFolds: number, smallClasses: 'reduce-folds' | 'drop'): LabelPlan {
  const counts = new Map<string, number>();
  let unlabelled = 0;
  for (const label of labels) {
    if (label === null) unlabelled++;
    else counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const warnings: string[] = [];
  const dropped: LabelPlan['dropped'] = [];
  let keptClasses = [...counts.keys()].sort();
  for (const label of keptClasses) {
    if (counts.get(label)! < 2) {
      dropped.push({ label, count: 1, reason: 'a single member cannot be both trained on and tested' });
    }
  }
  keptClasses = keptClasses.filter((label) => counts.get(label)! >= 2);

  let folds = requestedFolds;
  const smallest = Math.min(...keptClasses.map((label) => counts.get(label)!));
  if (keptClasses.length >= 2 && smallest < requestedFolds) {
    if (smallClasses === 'reduce-folds') {
      folds = smallest;
      const small = keptClasses.filter((label) => counts.get(label)! < requestedFolds);
      warnings.push(
        `cross-validation uses ${folds} folds instead of ${requestedFolds} because ${describe(small, counts)} ` +
          `${small.length === 1 ? 'has' : 'have'} fewer members than folds; use --classify-small-classes drop to keep ${requestedFolds} folds`,
      );
    } else {
      for (const label of keptClasses.filter((label) => counts.get(label)! < requestedFolds)) {
        dropped.push({ label, count: counts.get(label)!, reason: `fewer members than the ${requestedFolds} folds` });
      }
      keptClasses = keptClasses.filter((label) => counts.get(label)! >= requestedFolds);
    }
  }
  for (const { label, count, reason } of dropped) {
    warnings.push(`label '${label}' (${count} sample${count === 1 ? '' : 's'}) is left out of classification: ${reason}`);
  }

  const classIndex = new Map(keptClasses.map((label, k) => [label, k]));
  const rows: number[] = [];
  const y: number[] = [];
  labels.forEach((label, i) => {
    if (label !== null && classIndex.has(label)) {
      rows.push(i);
      y.push(classIndex.get(label)!);
    }
  });

  let skipReason: string | null = null;
  if (counts.size === 0) skipReason = 'no sample has a label';
  else if (keptClasses.length < 2) {
    skipReason =
      counts.size === 1
        ? `every labelled sample has the same label ('${[...counts.keys()][0]}'); classification needs at least two classes`
        : `fewer than two labels have enough samples for ${requestedFolds}-fold cross-validation (${describe([...counts.keys()].sort(), counts)})`;
  }
  return {
    classes: keptClasses,
    rows: Int32Array.from(rows),
    y: Int32Array.from(y),
    classCounts: keptClasses.map((label) => counts.get(label)!),
    folds,
    unlabelled,
    dropped,
    warnings,
    skipReason,
  };
}

function describe(labels: string[], counts: Map<string, number>): string {
  return labels.map((label) => `'${label}' (${counts.get(label)})`).join(', ');
}
