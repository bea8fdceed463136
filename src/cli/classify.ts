import { InvalidArgumentError, Option, type Command } from 'commander';
import { AUTO_MANY_REPEATS_MAX_SAMPLES, AUTO_REPEATS_MAX_SAMPLES, CLASSIFY_DEFAULTS, type ClassifierName, type ClassifyOptions } from '../../pipeline/classify.js';
import { LEARNER_NAMES } from '../classify/learner.js';
import { runClassify } from '../stages/classify.js';
import { parseChoice, parseInteger, parseNumber } from './parse.js';
import { runStandaloneStage } from './standalone.js';

/** Comma-separated learner names, e.g. `--classifiers logistic,svm`. */
function parseLearners(raw: string): ClassifierName[] {
  const names = raw.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(LEARNER_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new InvalidArgumentError(`expected comma-separated names from ${LEARNER_NAMES.join(', ')}, got '${raw}'.`);
  }
  if (new Set(names).size !== names.length) throw new InvalidArgumentError(`a learner is listed twice in '${raw}'.`);
  return names as ClassifierName[];
}

function parseRepeats(raw: string): number | 'auto' {
  if (raw === 'auto') return 'auto';
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`expected 'auto' or an integer of at least 1, got '${raw}'.`);
  return value;
}

function parseGamma(raw: string): 'scale' | number {
  return raw === 'scale' ? 'scale' : parseNumber(0, Infinity, { exclusiveMin: true })(raw);
}

/** Command-line flag (camelCase, as commander stores it) of each classify option. */
const FLAG_OF: Record<keyof ClassifyOptions, string> = {
  folds: 'classifyFolds',
  repeats: 'classifyRepeats',
  learners: 'classifiers',
  classWeight: 'classWeight',
  smallClasses: 'classifySmallClasses',
  logisticC: 'logisticC',
  forestTrees: 'forestTrees',
  forestMaxFeatures: 'forestMaxFeatures',
  forestMaxDepth: 'forestMaxDepth',
  knnNeighbors: 'knnNeighbors',
  svmC: 'svmC',
  svmGamma: 'svmGamma',
  svmMaxSamples: 'svmMaxSamples',
  stackingFolds: 'stackingFolds',
  stackingMeta: 'stackingMeta',
  stackingC: 'stackingC',
  ensemble: 'ensemble',
  importancePermutations: 'importancePermutations',
  importanceMaxSamples: 'importanceMaxSamples',
  calibrationBins: 'calibrationBins',
  pcaBaseline: 'classifyPcaBaseline',
};

/** Adds the classify stage's options; defaults come from CLASSIFY_DEFAULTS and are shown in --help. */
export function addClassifyOptions(command: Command): Command {
  const d = CLASSIFY_DEFAULTS;
  const options = [
    new Option('--classify-folds <k>', `folds of stratified cross-validation (default ${d.folds})`).argParser(parseInteger(2)),
    new Option(
      '--classify-repeats <n>',
      `repeats of the cross-validation, each with its own shuffle; 'auto' repeats 10 times up to ` +
        `${AUTO_MANY_REPEATS_MAX_SAMPLES} labelled samples, 3 times up to ${AUTO_REPEATS_MAX_SAMPLES} and once above (default ${d.repeats})`,
    ).argParser(parseRepeats),
    new Option('--classifiers <names>', `comma-separated base learners from ${LEARNER_NAMES.join(', ')} (default ${d.learners.join(',')})`).argParser(
      parseLearners,
    ),
    new Option(
      '--class-weight <mode>',
      `'balanced' weights each class by n / (classes * class size), 'none' weights every sample 1 (default ${d.classWeight})`,
    ).argParser(parseChoice(['balanced', 'none'] as const)),
    new Option(
      '--classify-small-classes <policy>',
      `for a label with fewer members than folds: 'reduce-folds' lowers the folds, 'drop' leaves the label out (default ${d.smallClasses})`,
    ).argParser(parseChoice(['reduce-folds', 'drop'] as const)),
    new Option('--logistic-c <C>', `inverse L2 regularization strength of the logistic regression (default ${d.logisticC})`).argParser(
      parseNumber(0, Infinity, { exclusiveMin: true }),
    ),
    new Option('--forest-trees <n>', `trees in the random forest (default ${d.forestTrees})`).argParser(parseInteger(1)),
    new Option(
      '--forest-max-features <mode>',
      `latent dimensions tried per split: 'sqrt' or 'all' (default ${d.forestMaxFeatures})`,
    ).argParser(parseChoice(['sqrt', 'all'] as const)),
    new Option('--forest-max-depth <depth>', `maximum tree depth; 0 grows until leaves are pure (default ${d.forestMaxDepth})`).argParser(
      parseInteger(0),
    ),
    new Option('--knn-neighbors <k>', `neighbours of the k-nearest-neighbours classifier (default ${d.knnNeighbors})`).argParser(
      parseInteger(1),
    ),
    new Option('--svm-c <C>', `penalty C of the RBF support vector machine (default ${d.svmC})`).argParser(
      parseNumber(0, Infinity, { exclusiveMin: true }),
    ),
    new Option(
      '--svm-gamma <gamma>',
      `RBF kernel width, or 'scale' for 1 / (dimensions * feature variance) (default ${d.svmGamma})`,
    ).argParser(parseGamma),
    new Option(
      '--svm-max-samples <n>',
      `largest SVM training set, in samples; larger training sets use a stratified, seeded subsample; 0 for no limit (default ${d.svmMaxSamples})`,
    ).argParser(parseInteger(0)),
    new Option(
      '--stacking-folds <k>',
      `inner folds that train the stacking meta-learner on out-of-fold probabilities; 0 disables stacking (default ${d.stackingFolds})`,
    ).argParser(parseInteger(0)),
    new Option(
      '--stacking-meta <kind>',
      `stacking meta-learner: 'logistic' on the stacked probabilities, or 'convex' (one non-negative weight per learner) (default ${d.stackingMeta})`,
    ).argParser(parseChoice(['logistic', 'convex'] as const)),
    new Option('--stacking-c <C>', `inverse L2 regularization strength of the logistic stacking meta-learner (default ${d.stackingC})`).argParser(
      parseNumber(0, Infinity, { exclusiveMin: true }),
    ),
    new Option(
      '--ensemble <kind>',
      `ensemble used by 'genevae predict' and permutation importance: 'voting' or 'stacking' (default ${d.ensemble})`,
    ).argParser(parseChoice(['voting', 'stacking'] as const)),
    new Option(
      '--importance-permutations <n>',
      `shuffles per latent dimension and test fold for permutation importance; 0 skips it (default ${d.importancePermutations})`,
    ).argParser(parseInteger(0)),
    new Option(
      '--importance-max-samples <n>',
      `test samples per fold that permutation importance scores; larger folds use a stratified, seeded subsample; 0 for all (default ${d.importanceMaxSamples})`,
    ).argParser(parseInteger(0)),
    new Option('--calibration-bins <n>', `equal-width bins of the calibration plot (default ${d.calibrationBins})`).argParser(
      parseInteger(2),
    ),
    new Option(
      '--no-classify-pca-baseline',
      'skip the comparison with a logistic regression on the principal components of the genes (default: compare)',
    ),
  ];
  for (const option of options) command.addOption(option);
  return command;
}

/** Collects the classify options the user set on the command line. */
export function classifyOptionsFrom(parsed: Record<string, unknown>): Partial<ClassifyOptions> {
  const out: Record<string, unknown> = {};
  for (const [field, flag] of Object.entries(FLAG_OF)) {
    if (parsed[flag] !== undefined) out[field] = parsed[flag];
  }
  return out as Partial<ClassifyOptions>;
}

/** Adds `genevae classify <run-dir>`, which runs only the classify stage of an existing run. */
export function registerClassify(program: Command): void {
  const command = program
    .command('classify')
    .description(
      'predict the labels from the latents: logistic regression, random forest, k-nearest neighbours, SVM, ' +
        'soft voting and stacking, scored by repeated stratified cross-validation (writes 05-classify/)',
    )
    .argument('<run-dir>', 'run directory whose train stage has completed')
    .option('--force', 'rerun even when inputs and options are unchanged');
  addClassifyOptions(command);
  command.action(async (runDir: string, parsed: Record<string, unknown>) => {
    const options: ClassifyOptions = { ...CLASSIFY_DEFAULTS, ...classifyOptionsFrom(parsed) };
    await runStandaloneStage(runDir, 'classify', options, runClassify, { force: Boolean(parsed.force) });
  });
}
