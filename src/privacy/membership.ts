import { existsSync } from 'node:fs';
import { readFrame } from '../io/arrow.js';
import { InputError } from '../util/errors.js';

/**
 * Loss-threshold membership inference (Yeom et al. 2018): guess that a sample was in the
 * training set when the trained model's loss on it is low. Its AUC over training samples
 * (members) against held-out samples (non-members) is an empirical check of how much the
 * model's behaviour reveals about who it was trained on.
 */

/** Result of the attack, with what it means in words. */
export interface MembershipResult {
  members: number;
  nonMembers: number;
  /** P(loss of a random member < loss of a random non-member), ties counting half. */
  auc: number;
  /** 95% confidence interval of the AUC (DeLong's variance, normal approximation, clipped to [0, 1]). */
  aucLow: number;
  aucHigh: number;
  /** Largest TPR - FPR over loss thresholds (membership advantage); an optimistic in-sample value. */
  advantage: number;
  /**
   * Largest true-positive rate with false-positive rate at most 1% and 10%; null when there are
   * too few held-out samples to tell that rate from zero (fewer than 100 and 10).
   */
  tprAtFpr1: number | null;
  tprAtFpr10: number | null;
  /** Largest AUC any attack on one sample's membership can reach under (epsilon, delta)-DP; null without DP. */
  dpAucBound: number | null;
  summary: string;
}

/** Runs the attack: lower loss means "member". */
export function membershipInference(
  losses: ArrayLike<number>,
  isMember: ArrayLike<boolean>,
  dp: { epsilon: number; delta: number } | null = null,
): MembershipResult {
  if (losses.length !== isMember.length) throw new RangeError(`${losses.length} losses but ${isMember.length} membership flags`);
  const n = losses.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(losses[i])) throw new InputError(`loss of sample ${i + 1} is not a finite number (${losses[i]})`);
  }
  let members = 0;
  for (let i = 0; i < n; i++) if (isMember[i]) members++;
  const nonMembers = n - members;
  if (members === 0 || nonMembers === 0) {
    throw new InputError(
      `membership inference needs both training and held-out samples, got ${members} and ${nonMembers}`,
      {},
      'train with a validation split so that held-out samples exist',
    );
  }

  // Mid-ranks of the attack score (-loss) among all samples and within each group.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => losses[b] - losses[a]);
  const rankAll = midRanks(order, losses);
  const memberIndex = order.filter((i) => isMember[i]);
  const nonMemberIndex = order.filter((i) => !isMember[i]);
  const rankMembers = midRanks(memberIndex, losses);
  const rankNonMembers = midRanks(nonMemberIndex, losses);

  // DeLong's structural components: V10 for each member, V01 for each non-member.
  const v10: number[] = [];
  const v01: number[] = [];
  let rankSum = 0;
  for (const i of memberIndex) {
    rankSum += rankAll.get(i)!;
    v10.push((rankAll.get(i)! - rankMembers.get(i)!) / nonMembers);
  }
  for (const j of nonMemberIndex) v01.push(1 - (rankAll.get(j)! - rankNonMembers.get(j)!) / members);
  const auc = (rankSum - (members * (members + 1)) / 2) / (members * nonMembers);
  const variance = sampleVariance(v10) / members + sampleVariance(v01) / nonMembers;
  const half = 1.959963984540054 * Math.sqrt(variance);

  const curve = thresholdCurve(losses, isMember, members, nonMembers);
  const result = {
    members,
    nonMembers,
    auc,
    aucLow: Math.max(0, auc - half),
    aucHigh: Math.min(1, auc + half),
    advantage: Math.max(0, ...curve.map(([fpr, tpr]) => tpr - fpr)),
    tprAtFpr1: nonMembers >= 100 ? Math.max(0, ...curve.filter(([fpr]) => fpr <= 0.01).map(([, tpr]) => tpr)) : null,
    tprAtFpr10: nonMembers >= 10 ? Math.max(0, ...curve.filter(([fpr]) => fpr <= 0.1).map(([, tpr]) => tpr)) : null,
    dpAucBound: dp ? dpAucBound(dp.epsilon, dp.delta) : null,
  };
  return { ...result, summary: describeMembership(result) };
}

/** Mid-ranks (1-based, ties averaged) of `indices`, given in decreasing order of loss. */
function midRanks(indices: number[], losses: ArrayLike<number>): Map<number, number> {
  const ranks = new Map<number, number>();
  let start = 0;
  while (start < indices.length) {
    let end = start;
    while (end + 1 < indices.length && losses[indices[end + 1]] === losses[indices[start]]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks.set(indices[k], rank);
    start = end + 1;
  }
  return ranks;
}

function sampleVariance(values: number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
}

/** (FPR, TPR) of "member if loss <= t" at every distinct loss t, plus (0, 0). */
function thresholdCurve(losses: ArrayLike<number>, isMember: ArrayLike<boolean>, members: number, nonMembers: number): Array<[number, number]> {
  const order = Array.from({ length: losses.length }, (_, i) => i).sort((a, b) => losses[a] - losses[b]);
  const points: Array<[number, number]> = [[0, 0]];
  let truePositives = 0;
  let falsePositives = 0;
  for (let k = 0; k < order.length; k++) {
    if (isMember[order[k]]) truePositives++;
    else falsePositives++;
    if (k + 1 === order.length || losses[order[k + 1]] !== losses[order[k]]) {
      points.push([falsePositives / nonMembers, truePositives / members]);
    }
  }
  return points;
}

/**
 * Area under the best trade-off curve that (epsilon, delta)-DP allows: no test of one sample's
 * membership reaches TPR above min(1, e^eps FPR + delta, 1 - e^-eps (1 - delta - FPR)).
 */
export function dpAucBound(epsilon: number, delta: number): number {
  if (!Number.isFinite(epsilon)) return 1;
  const steps = 20_000;
  let area = 0;
  for (let k = 0; k < steps; k++) {
    const fpr = (k + 0.5) / steps;
    const tpr = Math.min(1, Math.exp(epsilon) * fpr + delta, 1 - Math.exp(-epsilon) * (1 - delta - fpr));
    area += Math.max(0, tpr) / steps;
  }
  return Math.min(1, area);
}

type MembershipNumbers = Omit<MembershipResult, 'summary'>;

/** Describes the result in plain words, for an ethics board as much as for a data scientist. */
export function describeMembership(r: MembershipNumbers): string {
  const auc = r.auc.toFixed(3);
  const interval = `${r.aucLow.toFixed(3)} to ${r.aucHigh.toFixed(3)}`;
  const lines = [
    `Loss-threshold membership attack: AUC ${auc} (95% CI ${interval}) over ${r.members} training and ${r.nonMembers} held-out samples.`,
    'The attacker sees each sample\'s loss under the trained model and guesses "was in training" when it is low. ' +
      'Given one training and one held-out sample, it picks the training one with probability equal to the AUC: ' +
      '0.5 is a coin flip, 1.0 is perfect.',
  ];
  if (r.aucLow > 0.5) {
    lines.push(
      `The interval lies above 0.5: the model fits its training samples measurably better than held-out ones, so its ` +
        `losses reveal something about who was in the training set` +
        (r.tprAtFpr1 === null ? '.' : ` (best TPR at 1% FPR: ${(100 * r.tprAtFpr1).toFixed(1)}%).`),
    );
  } else {
    lines.push(
      'The interval includes 0.5 (or lies below it): this attack finds no evidence that the model remembers its training samples. ' +
        'A weak attack finding nothing is not proof of privacy; the differential privacy guarantee is the bound that holds against every attack.',
    );
  }
  if (r.dpAucBound !== null && r.dpAucBound >= 0.995) {
    lines.push(
      `The run's epsilon bounds any attack on a single sample's membership only at AUC ${r.dpAucBound.toFixed(3)}, ` +
        'so at this epsilon the guarantee rules out almost no single attack; it bounds them meaningfully only at a much smaller epsilon.',
    );
  } else if (r.dpAucBound !== null) {
    lines.push(`The run's epsilon limits any attack on a single sample's membership to AUC ${r.dpAucBound.toFixed(3)} at most.`);
  }
  return lines.join('\n');
}

/** Reads 03-train/sample_losses.arrow (sample_id, split 'train' | 'validation', loss) and runs the attack. */
export function membershipFromFile(path: string, dp: { epsilon: number; delta: number } | null): MembershipResult {
  if (!existsSync(path)) throw new InputError('per-sample losses not found', { file: path }, 'run the train stage first; it writes this file');
  const frame = readFrame(path);
  for (const column of ['sample_id', 'split', 'loss']) {
    if (!(column in frame)) throw new InputError(`column '${column}' is missing`, { file: path }, 'expected sample_id, split and loss');
  }
  const split = frame.split as (string | null)[];
  const loss = frame.loss;
  if (!(loss instanceof Float64Array || loss instanceof Float32Array)) {
    throw new InputError("column 'loss' is not floating point", { file: path });
  }
  const isMember = split.map((value, row) => {
    if (value === 'train') return true;
    if (value === 'validation') return false;
    throw new InputError(`split '${value}' is neither 'train' nor 'validation'`, { file: path, line: row + 1, column: 'split' });
  });
  return membershipInference(loss, isMember, dp);
}
