/**
 * Published accountant values from Google's dp_accounting, TensorFlow Privacy and Opacus, each
 * with the repository, file and test (or docstring) it was copied from. Steps follow the
 * source's own arithmetic (for example ceil(epochs * n / batch_size)).
 */

/** dp_accounting's DEFAULT_RDP_ORDERS is ours; these are the other libraries' grids. */
export const OPACUS_ALPHAS: number[] = [
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, x) => 12 + x),
];

/** Orders of TensorFlow Privacy's compute_dp_sgd_privacy. */
export const TF_PRIVACY_DP_SGD_ORDERS: number[] = [
  1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5,
  ...Array.from({ length: 59 }, (_, x) => 5 + x),
  128, 256, 512,
];

/** RDP of a composed subsampled Gaussian at single orders. */
export interface RdpValueCase {
  name: string;
  q: number;
  sigma: number;
  steps: number;
  order: number;
  expected: number;
  source: string;
}

const DP_ACCOUNTING_RDP_TEST =
  'google/differential-privacy python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py';
const TF_RDP_TEST = 'tensorflow/privacy tensorflow_privacy/privacy/analysis/rdp_accountant_test.py';
const TF_DP_SGD_TEST = 'tensorflow/privacy tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py';

export const RDP_VALUE_CASES: RdpValueCase[] = [
  ...[
    [1.5, 6.70579741e-4],
    [2.5, 1.0854871e-3],
    [5, 2.18075656e-3],
    [50, 2.38460375e-2],
    [100, 1.67416308e2],
  ].map(([order, expected]) => ({
    name: `q=0.01 sigma=2.5 steps=50 order=${order}`,
    q: 0.01,
    sigma: 2.5,
    steps: 50,
    order,
    expected,
    source: `${DP_ACCOUNTING_RDP_TEST} test_compute_rdp_poisson_sampled_gaussian`,
  })),
  {
    name: 'q=0.1 sigma=2 steps=10 order=5',
    q: 0.1,
    sigma: 2,
    steps: 10,
    order: 5,
    expected: 0.07737,
    source: `${TF_RDP_TEST} test_compute_rdp_scalar`,
  },
  {
    name: 'q=1 sigma=10 steps=1 order=20',
    q: 1,
    sigma: 10,
    steps: 1,
    order: 20,
    expected: 0.1,
    source: `${TF_RDP_TEST} test_compute_rdp_no_sampling`,
  },
];

/** Epsilon of a subsampled Gaussian, as the source library reports it with its own order grid. */
export interface EpsilonCase {
  name: string;
  q: number;
  sigma: number;
  steps: number;
  delta: number;
  expected: number;
  /** Order grid the source used; undefined means dp_accounting's default, which is ours. */
  orders?: number[];
  /** Relative tolerance when the source itself rounds (3 decimals in a printed statement). */
  tolerance?: number;
  source: string;
}

export const RDP_EPSILON_CASES: EpsilonCase[] = [
  {
    name: 'MNIST-like n=60000 batch=150 sigma=1.3 15 epochs',
    q: 150 / 60000,
    sigma: 1.3,
    steps: Math.ceil((15 * 60000) / 150),
    delta: 1e-5,
    expected: 0.7242234026109595,
    orders: TF_PRIVACY_DP_SGD_ORDERS,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_privacy Test0`,
  },
  {
    name: 'n=100000 batch=100 sigma=1.0 30 epochs',
    q: 100 / 100000,
    sigma: 1.0,
    steps: Math.ceil((30 * 100000) / 100),
    delta: 1e-7,
    expected: 1.4154988495444842,
    orders: TF_PRIVACY_DP_SGD_ORDERS,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_privacy Test1`,
  },
  {
    name: 'n=1e8 batch=1024 sigma=0.1 10 epochs (976563 steps)',
    q: 1024 / 100000000,
    sigma: 0.1,
    steps: Math.ceil((10 * 100000000) / 1024),
    delta: 1e-7,
    expected: 5907982.3113978775,
    orders: TF_PRIVACY_DP_SGD_ORDERS,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_privacy Test2`,
  },
  {
    name: 'Gaussian sigma=0.7, 2 steps',
    q: 1,
    sigma: 0.7,
    steps: Math.ceil(1.2),
    delta: 1e-5,
    expected: 10.8602036,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_example_privacy no_microbatching_no_subsampling_rdp`,
  },
  {
    name: 'Gaussian sigma=0.35, 2 steps',
    q: 1,
    sigma: 0.35,
    steps: Math.ceil(1.2),
    delta: 1e-5,
    expected: 26.2880374,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_example_privacy microbatching_no_subsampling_rdp`,
  },
  {
    name: 'q=0.01 sigma=0.7 120 steps',
    q: 0.01,
    sigma: 0.7,
    steps: Math.ceil(1.2 / 0.01),
    delta: 1e-5,
    expected: 3.2392676,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_example_privacy no_microbatching_with_subsampling_rdp`,
  },
  {
    name: 'q=0.01 sigma=0.35 120 steps',
    q: 0.01,
    sigma: 0.35,
    steps: Math.ceil(1.2 / 0.01),
    delta: 1e-5,
    expected: 22.6248601,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_example_privacy microbatching_with_subsampling_rdp`,
  },
  {
    name: 'Gaussian sigma=1.0, 5 steps (printed to 3 decimals)',
    q: 1,
    sigma: 2.0 / 2,
    steps: Math.ceil(5.0),
    delta: 1e-6,
    expected: 13.376,
    tolerance: 1e-4,
    source: `${TF_DP_SGD_TEST} test_dp_sgd_privacy_statement_no_user_dp_with_rdp (first epsilon)`,
  },
  {
    name: 'q=0.0064 sigma=1.0 782 steps (printed to 3 decimals)',
    q: 64 / 10000,
    sigma: 2.0 / 2,
    steps: Math.ceil(5.0 / (64 / 10000)),
    delta: 1e-6,
    expected: 1.616,
    tolerance: 1e-3,
    source: `${TF_DP_SGD_TEST} test_dp_sgd_privacy_statement_no_user_dp_with_rdp (Poisson epsilon)`,
  },
  {
    name: 'q=0.04 sigma=1.5 2250 steps',
    q: 0.04,
    sigma: 1.5,
    steps: Math.trunc(90 / 0.04),
    delta: 1e-5,
    expected: 7.32911117143,
    orders: OPACUS_ALPHAS,
    source: 'pytorch/opacus opacus/tests/accountants_test.py test_rdp_accountant',
  },
];

/** Noise multipliers from Opacus' get_noise_multiplier, whose bisection stops at a bracket of 0.01. */
export interface NoiseCase {
  name: string;
  targetEpsilon: number;
  q: number;
  steps: number;
  delta: number;
  expected: number;
  /** Absolute tolerance of the source's own search. */
  absoluteTolerance: number;
  source: string;
}

export const NOISE_CASES: NoiseCase[] = [
  {
    name: 'epsilon=8 q=0.04 90 epochs',
    targetEpsilon: 8,
    q: 0.04,
    steps: Math.trunc(90 / 0.04),
    delta: 1e-5,
    expected: 1.416,
    absoluteTolerance: 0.01,
    source: 'pytorch/opacus opacus/tests/accountants_test.py test_get_noise_multiplier_rdp_epochs',
  },
  {
    name: 'epsilon=8 q=0.04 2000 steps',
    targetEpsilon: 8,
    q: 0.04,
    steps: 2000,
    delta: 1e-5,
    expected: 1.3562,
    absoluteTolerance: 0.01,
    source: 'pytorch/opacus opacus/tests/accountants_test.py test_get_noise_multiplier_rdp_steps',
  },
];

/** PLD epsilons from dp_accounting's PLDAccountant (called through TensorFlow Privacy). */
export const PLD_EPSILON_CASES: EpsilonCase[] = [
  {
    name: 'Gaussian sigma=0.7, 2 steps',
    q: 1,
    sigma: 0.7,
    steps: 2,
    delta: 1e-5,
    expected: 10.1224946,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_example_privacy no_microbatching_no_subsampling_pld`,
  },
  {
    name: 'Gaussian sigma=0.35, 2 steps',
    q: 1,
    sigma: 0.35,
    steps: 2,
    delta: 1e-5,
    expected: 24.7160779,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_example_privacy microbatching_no_subsampling_pld`,
  },
  {
    name: 'q=0.01 sigma=0.7 120 steps',
    q: 0.01,
    sigma: 0.7,
    steps: 120,
    delta: 1e-5,
    expected: 2.4612381,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_example_privacy no_microbatching_with_subsampling_pld`,
  },
  {
    name: 'q=0.01 sigma=0.35 120 steps',
    q: 0.01,
    sigma: 0.35,
    steps: 120,
    delta: 1e-5,
    expected: 18.6977407,
    source: `${TF_DP_SGD_TEST} test_compute_dp_sgd_example_privacy microbatching_with_subsampling_pld`,
  },
  {
    name: 'Gaussian sigma=1.0, 5 steps (printed to 3 decimals)',
    q: 1,
    sigma: 1,
    steps: 5,
    delta: 1e-6,
    expected: 12.595,
    tolerance: 1e-4,
    source: `${TF_DP_SGD_TEST} test_dp_sgd_privacy_statement_no_user_dp_with_pld (first epsilon)`,
  },
  {
    name: 'q=0.0064 sigma=1.0 782 steps (printed to 3 decimals)',
    q: 64 / 10000,
    sigma: 1,
    steps: Math.ceil(5.0 / (64 / 10000)),
    delta: 1e-6,
    expected: 1.199,
    tolerance: 1e-3,
    source: `${TF_DP_SGD_TEST} test_dp_sgd_privacy_statement_no_user_dp_with_pld (Poisson epsilon)`,
  },
];

/**
 * PRV accountant epsilons at delta = 1e-6, (sigma, q, steps) -> epsilon. Opacus notes they were
 * computed with microsoft/prv_accountant, and its PRVAccountant reports the upper end of an
 * interval of width 0.01 (eps_error), so the exact epsilon lies up to ~0.01 below each value.
 * Source: pytorch/opacus opacus/tests/prv_accountant.py msr_values (PRVAccountantTest.test_values).
 */
export const PRV_VALUES: Array<[number, number, number, number]> = [
  [0.8, 0.001, 100, 0.270403364058018680360362395731],
  [1.5, 0.001, 100, 0.0393694193095203287535710501288],
  [2.0, 0.001, 100, 0.0291045369484074882560076247273],
  [3.0, 0.001, 100, 0.0215200934390882663016508757892],
  [0.8, 0.05, 100, 6.74105193941409996938318727189],
  [1.5, 0.05, 100, 1.95385313568420015961635272106],
  [2.0, 0.05, 100, 1.28363737962406521120328761754],
  [3.0, 0.05, 100, 0.767933789666825572517439013609],
  [0.8, 0.2, 100, 24.3336641779225644199868838768],
  [1.5, 0.2, 100, 8.49897785912163072907787864096],
  [2.0, 0.2, 100, 5.67205560882372950004537415225],
  [3.0, 0.2, 100, 3.38122051022184422208738396876],
  [0.8, 0.001, 1000, 0.477771266184522591657923840103],
  [1.5, 0.001, 1000, 0.0998206602308474855167474970585],
  [2.0, 0.001, 1000, 0.0712187825381152272985474382949],
  [3.0, 0.001, 1000, 0.0476159308713589302097801692071],
  [0.8, 0.05, 1000, 19.5258428053837356230815203162],
  [1.5, 0.05, 1000, 6.20996924657726712126759593957],
  [2.0, 0.05, 1000, 4.17279986668931890392286732094],
  [3.0, 0.05, 1000, 2.52757432605973830774814814504],
  [0.8, 0.001, 20000, 1.29600925757016161021795142005],
  [1.5, 0.001, 20000, 0.437005108654860807693154356457],
  [2.0, 0.001, 20000, 0.305837939762453436820521801565],
  [3.0, 0.001, 20000, 0.194031030686054706269061398416],
  [0.8, 0.05, 20000, 140.655209760074228597659384832],
  [1.5, 0.05, 20000, 38.3066179140872336006395926233],
  [2.0, 0.05, 20000, 24.4217185703225858617315680021],
  [3.0, 0.05, 20000, 13.9611146992367061159256991232],
  [0.8, 0.001, 50000, 2.03451480771586634688219419331],
  [1.5, 0.001, 50000, 0.704218384555810095193351116905],
  [2.0, 0.001, 50000, 0.491354910211401318953505779064],
  [3.0, 0.001, 50000, 0.309694161156544023327796821832],
  [0.8, 0.05, 50000, 291.384325452396524269715882838],
  [1.5, 0.05, 50000, 73.1901767238329625797632616013],
  [2.0, 0.05, 50000, 45.2369958613306906158868514467],
  [3.0, 0.05, 50000, 24.9420056431444763234139827546],
  [0.8, 0.001, 100000, 2.92462211935041027643933375657],
  [1.5, 0.001, 100000, 1.01528807502760787251361307426],
  [2.0, 0.001, 100000, 0.706719901081851564761393547087],
  [3.0, 0.001, 100000, 0.443671720880875475323534828931],
];
