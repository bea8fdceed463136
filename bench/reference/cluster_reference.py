#!/usr/bin/python3
"""Reference clusterings of genevae's latents with scikit-learn and leidenalg.

Reads the sample table that `genevae export samples <run-dir>` writes (sample_id, label,
z0..z<d-1>, kmeans, louvain, ...), reclusters the latents the way scikit-learn and scanpy users
would, and prints, for each clustering, the number of clusters and its adjusted Rand index and
normalized mutual information against the labels (samples without a label left out):

- sklearn_kmeans: KMeans(n_init=5, random_state=0) for k in [k_min, k_max], k chosen by the
  highest silhouette_score (on at most 4,000 samples, as genevae does);
- leiden: leidenalg's RBConfigurationVertexPartition (resolution 1, seed 0) on scanpy's
  `pp.neighbors` graph, i.e. the fuzzy-union UMAP connectivities of the exact 15-NN graph;
- genevae's own columns, recomputed from the table.

Run with Debian's interpreter (python3-sklearn, python3-leidenalg, python3-pandas):
    /usr/bin/python3 bench/reference/cluster_reference.py reports/<run>/exports/samples.tsv
"""
import argparse
import json
import sys

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score
from sklearn.neighbors import NearestNeighbors


def umap_connectivities(z, k):
    """Fuzzy-union connectivities of the kNN graph (umap-learn's fuzzy_simplicial_set, local_connectivity 1)."""
    distances, indices = NearestNeighbors(n_neighbors=k).fit(z).kneighbors(z)
    n = z.shape[0]
    target = np.log2(k)
    rows, cols, vals = [], [], []
    for i in range(n):
        d = distances[i, 1:]
        positive = d[d > 0]
        rho = positive.min() if positive.size else 0.0
        lo, hi, mid = 0.0, np.inf, 1.0
        for _ in range(64):
            total = np.exp(-np.maximum(0, d - rho) / mid).sum()
            if abs(total - target) < 1e-5:
                break
            if total > target:
                hi = mid
                mid = (lo + hi) / 2
            else:
                lo = mid
                mid = mid * 2 if np.isinf(hi) else (lo + hi) / 2
        sigma = max(mid, 1e-3 * d.mean(), 1e-12)
        for r, j in enumerate(indices[i, 1:]):
            if j != i:
                rows.append(i)
                cols.append(j)
                vals.append(np.exp(-max(0.0, d[r] - rho) / sigma))
    from scipy.sparse import coo_matrix

    w = coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    return w + w.T - w.multiply(w.T)


def leiden(connectivities, resolution, seed):
    import igraph as ig
    import leidenalg

    upper = connectivities.tocoo()
    keep = upper.row < upper.col
    graph = ig.Graph(n=connectivities.shape[0], edges=list(zip(upper.row[keep], upper.col[keep])), directed=False)
    graph.es["weight"] = upper.data[keep]
    partition = leidenalg.find_partition(
        graph, leidenalg.RBConfigurationVertexPartition, weights="weight", resolution_parameter=resolution, seed=seed
    )
    return np.array(partition.membership)


def kmeans_by_silhouette(z, k_min, k_max, sample_size=4000):
    best = None
    for k in range(k_min, min(k_max, z.shape[0] - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=5, random_state=0).fit_predict(z)
        size = min(sample_size, z.shape[0])
        score = silhouette_score(z, labels, sample_size=size if size < z.shape[0] else None, random_state=0)
        if best is None or score > best[0]:
            best = (score, labels)
    return best[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("samples", help="samples.tsv written by `genevae export samples`")
    parser.add_argument("--k-min", type=int, default=2)
    parser.add_argument("--k-max", type=int, default=12)
    parser.add_argument("--neighbors", type=int, default=15)
    parser.add_argument("--resolution", type=float, default=1.0)
    args = parser.parse_args()

    table = pd.read_csv(args.samples, sep="\t", dtype={"label": str})
    if "label" not in table:
        sys.exit(f"{args.samples}: no label column; agreement with labels needs labels")
    z = table[[c for c in table.columns if c.startswith("z") and c[1:].isdigit()]].to_numpy(np.float64)
    labelled = table["label"].notna().to_numpy()
    truth = table["label"][labelled].to_numpy()

    clusterings = {
        "sklearn_kmeans": kmeans_by_silhouette(z, args.k_min, args.k_max),
        "leiden": leiden(umap_connectivities(z, args.neighbors), args.resolution, 0),
    }
    for column in ("kmeans", "louvain", "pca_kmeans", "pca_louvain"):
        if column in table:
            clusterings[f"genevae_{column}"] = table[column].to_numpy()
    result = {
        name: {
            "clusters": int(len(set(labels))),
            "ari": adjusted_rand_score(truth, labels[labelled]),
            "nmi": normalized_mutual_info_score(truth, labels[labelled]),
        }
        for name, labels in clusterings.items()
    }
    json.dump({"samples": int(len(table)), "labelled": int(labelled.sum()), "clusterings": result}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
