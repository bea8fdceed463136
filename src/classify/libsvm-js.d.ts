// Types for the parts of libsvm-js 0.2.1 that the SVM learner uses; the package ships none.
declare module 'libsvm-js' {
  export interface SvmOptions {
    type?: string;
    kernel?: string;
    gamma?: number;
    cost?: number;
    probabilityEstimates?: boolean;
    weight?: Record<number, number>;
    tolerance?: number;
    cacheSize?: number;
    shrinking?: boolean;
    quiet?: boolean;
  }
  export interface SvmProbability {
    prediction: number;
    estimates: { label: number; probability: number }[];
  }
  export interface SvmInstance {
    train(samples: number[][], labels: number[]): void;
    predictOneProbability(sample: number[]): SvmProbability;
    getLabels(): number[];
    serializeModel(): string;
    free(): void;
  }
  export interface SvmConstructor {
    new (options: SvmOptions): SvmInstance;
    load(serialized: string): SvmInstance;
    KERNEL_TYPES: { LINEAR: string; POLYNOMIAL: string; RBF: string; SIGMOID: string };
    SVM_TYPES: { C_SVC: string; NU_SVC: string };
  }
  const loaded: Promise<SvmConstructor>;
  export default loaded;
}
