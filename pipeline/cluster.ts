/** Options of the cluster stage. */
export interface ClusterOptions {
  /** Smallest k tried by k-means. Default 2. */
  kMin: number;
  /** Largest k tried by k-means (capped at n - 1). Default 12. */
  kMax: number;
  /** k-means restarts per k; the lowest inertia wins. Default 5. */
  kmeansRestarts: number;
  /** Largest number of samples the silhouette is computed on; larger cohorts use a seeded subsample. Default 4000. */
  silhouetteSampleSize: number;
  /** UMAP neighbours. Default 15. */
  umapNeighbors: number;
  /** UMAP minimum distance. Default 0.1. */
  umapMinDist: number;
  /** UMAP optimisation epochs; null lets umap-js choose from the sample count. Default null. */
  umapEpochs: number | null;
}

export const CLUSTER_DEFAULTS: ClusterOptions = {
  kMin: 2,
  kMax: 12,
  kmeansRestarts: 5,
  silhouetteSampleSize: 4000,
  umapNeighbors: 15,
  umapMinDist: 0.1,
  umapEpochs: null,
};
