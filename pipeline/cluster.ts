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
  /** Largest number of samples the k-means scan over k fits on; above it the chosen k is refitted on all samples. Default 10000. */
  kmeansScanSampleSize: number;
  /** Neighbours per sample in the kNN graph for graph clustering, the sample itself included (scanpy's n_neighbors). Default 15. */
  graphNeighbors: number;
  /**
   * Louvain resolution; higher gives more, smaller clusters. 'auto' runs Louvain at each of
   * `resolutions` and keeps the partition with the highest mean silhouette, the rule that picks
   * k for k-means. The PCA baseline chooses its own resolution the same way. Default 'auto'.
   */
  resolution: number | 'auto';
  /** Resolutions 'auto' chooses from. Default 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2. */
  resolutions: number[];
  /**
   * Cohorts up to this many samples get exact neighbours, and larger ones the NN-descent index.
   * A space of at most 16 dimensions (the latents) always gets exact neighbours, because a
   * kd-tree search finds them quickly at any size. Default 10000.
   */
  exactNeighborsMaxSamples: number;
  /** Principal components of the normalized data for the baseline clustering; 0 turns the baseline off. Default 50. */
  pcaComponents: number;
  /** Subsamples drawn to measure each cluster's stability; 0 turns it off. Default 20. */
  stabilityResamples: number;
  /** Fraction of the samples in each stability subsample, in (0, 1]. Default 0.8. */
  stabilityFraction: number;
  /** Largest stability subsample, in samples, so that large cohorts stay affordable. Default 5000. */
  stabilityMaxSamples: number;
  /** Test every gene for markers of each cluster and label. Default true. */
  markers: boolean;
  /** Marker genes per group listed in the summary (markers.arrow contains every gene). Default 10. */
  markerTopGenes: number;
  /** Genes per latent dimension listed in the summary (latent_genes.arrow contains every gene). Default 10. */
  latentTopGenes: number;
  /** UMAP neighbours. Default 15. */
  umapNeighbors: number;
  /** UMAP minimum distance. Default 0.1. */
  umapMinDist: number;
  /** UMAP optimisation epochs; null chooses as umap-learn does: 500 up to 10,000 samples, 200 above. Default null. */
  umapEpochs: number | null;
}

export const CLUSTER_DEFAULTS: ClusterOptions = {
  kMin: 2,
  kMax: 12,
  kmeansRestarts: 5,
  silhouetteSampleSize: 4000,
  kmeansScanSampleSize: 10000,
  graphNeighbors: 15,
  resolution: 'auto',
  resolutions: [0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2],
  exactNeighborsMaxSamples: 10000,
  pcaComponents: 50,
  stabilityResamples: 20,
  stabilityFraction: 0.8,
  stabilityMaxSamples: 5000,
  markers: true,
  markerTopGenes: 10,
  latentTopGenes: 10,
  umapNeighbors: 15,
  umapMinDist: 0.1,
  umapEpochs: null,
};
