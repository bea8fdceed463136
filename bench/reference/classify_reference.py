#!/usr/bin/python3
"""scikit-learn reference for genevae's classify stage.

Reads a JSON file that genevae's reference test writes: the latent features, the class of
each sample, the fold assignment of every repeat and the learner settings. Runs the same
learners with the same settings on the same folds, and prints a JSON object with the balanced
accuracy of every model on every test fold.

Usage: /usr/bin/python3 classify_reference.py INPUT.json > OUTPUT.json

The models mirror genevae's:
  logistic  StandardScaler + LogisticRegression(lbfgs, multinomial, C, class_weight)
  forest    StandardScaler + RandomForestClassifier(n_estimators, max_features, class_weight)
  knn       StandardScaler + k nearest neighbours; each neighbour's vote weighted by its class weight
  svm       StandardScaler + SVC(rbf, C, gamma, class_weight, probability=True)
  voting    mean of the four probability matrices
  stacking  LogisticRegression(C, class_weight) on out-of-fold probabilities of an inner
            StratifiedKFold (its own shuffle, so its folds differ from genevae's)
The predicted class of every model is the argmax of its probabilities, as in genevae.
The forest's score and the SVM's (through the folds of its Platt scaling) vary with the random
state by a few hundredths on small cohorts. With "seeds" in the input, those two learners also
run once per seed, and the mean over seeds is reported as "forest_seeds" and "svm_seeds".
"""

import json
import sys

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.class_weight import compute_class_weight


class WeightedVoteKNN(BaseEstimator, ClassifierMixin):
    """k nearest neighbours whose votes count with the class weight of the neighbour's class."""

    def __init__(self, n_neighbors=5, class_weight="balanced"):
        self.n_neighbors = n_neighbors
        self.class_weight = class_weight

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.X_ = np.asarray(X)
        self.y_ = np.searchsorted(self.classes_, y)
        if self.class_weight == "balanced":
            self.vote_ = compute_class_weight("balanced", classes=self.classes_, y=y)
        else:
            self.vote_ = np.ones(len(self.classes_))
        self.index_ = NearestNeighbors(n_neighbors=min(self.n_neighbors, len(y))).fit(self.X_)
        return self

    def predict_proba(self, X):
        _, neighbours = self.index_.kneighbors(np.asarray(X))
        proba = np.zeros((len(X), len(self.classes_)))
        for row, members in enumerate(neighbours):
            for member in members:
                proba[row, self.y_[member]] += self.vote_[self.y_[member]]
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def build_learners(settings, seed):
    class_weight = "balanced" if settings["classWeight"] == "balanced" else None
    depth = settings["forestMaxDepth"] or None
    max_features = "sqrt" if settings["forestMaxFeatures"] == "sqrt" else None
    learners = {
        "logistic": LogisticRegression(C=settings["logisticC"], class_weight=class_weight, max_iter=1000),
        "forest": RandomForestClassifier(
            n_estimators=settings["forestTrees"],
            max_features=max_features,
            max_depth=depth,
            class_weight=class_weight,
            random_state=seed,
        ),
        "knn": WeightedVoteKNN(n_neighbors=settings["knnNeighbors"], class_weight=settings["classWeight"]),
        "svm": SVC(
            C=settings["svmC"],
            gamma=settings["svmGamma"],
            class_weight=class_weight,
            probability=True,
            random_state=seed,
        ),
    }
    return {name: make_pipeline(StandardScaler(), learners[name]) for name in settings["learners"]}


def stacking_proba(learners, test_probabilities, settings, X_train, y_train, seed):
    """Meta-learner on inner out-of-fold probabilities, applied to the outer fold's test probabilities."""
    counts = np.bincount(y_train)
    inner = min(settings["stackingFolds"], counts[counts > 0].min())
    if inner < 2:
        return None
    splitter = StratifiedKFold(n_splits=inner, shuffle=True, random_state=seed)
    out_of_fold = np.zeros((len(y_train), len(learners) * settings["nClasses"]))
    for train, test in splitter.split(X_train, y_train):
        for index, model in enumerate(learners.values()):
            fitted = clone(model).fit(X_train[train], y_train[train])
            out_of_fold[np.ix_(test, columns(index, fitted, settings["nClasses"]))] = fitted.predict_proba(X_train[test])
    class_weight = "balanced" if settings["classWeight"] == "balanced" else None
    meta = LogisticRegression(C=settings["stackingC"], class_weight=class_weight, max_iter=1000).fit(out_of_fold, y_train)
    test_features = np.hstack([test_probabilities[name] for name in learners])
    return full_proba(meta, meta.predict_proba(test_features), settings["nClasses"])


def columns(index, fitted, n_classes):
    """Columns of a learner's probabilities in the stacked features (absent classes stay 0)."""
    return [index * n_classes + int(c) for c in fitted.classes_]


def full_proba(model, proba, n_classes):
    out = np.zeros((proba.shape[0], n_classes))
    out[:, model.classes_.astype(int)] = proba
    return out


def main():
    with open(sys.argv[1]) as handle:
        data = json.load(handle)
    X = np.asarray(data["x"], dtype=np.float64)
    y = np.asarray(data["y"], dtype=np.int64)
    settings = data["settings"]
    n_classes = settings["nClasses"]
    seed = data.get("seed", 0)
    scores = {}
    for repeat, assignment in enumerate(data["assignments"]):
        assignment = np.asarray(assignment)
        for fold in range(int(assignment.max()) + 1):
            train = assignment != fold
            test = assignment == fold
            learners = build_learners(settings, seed + repeat)
            probabilities = {}
            for name, model in learners.items():
                fitted = model.fit(X[train], y[train])
                probabilities[name] = full_proba(fitted, fitted.predict_proba(X[test]), n_classes)
            probabilities["voting"] = np.mean([probabilities[name] for name in learners], axis=0)
            if settings["stackingFolds"] >= 2:
                stacked = stacking_proba(learners, probabilities, settings, X[train], y[train], seed + repeat)
                if stacked is not None:
                    probabilities["stacking"] = stacked
            for name, proba in probabilities.items():
                predicted = np.argmax(proba, axis=1)
                scores.setdefault(name, []).append(float(balanced_accuracy_score(y[test], predicted)))
            for name in [name for name in ("forest", "svm") if name in learners and data.get("seeds")]:
                per_seed = []
                for learner_seed in data["seeds"]:
                    model = build_learners({**settings, "learners": [name]}, learner_seed)[name]
                    fitted = model.fit(X[train], y[train])
                    proba = full_proba(fitted, fitted.predict_proba(X[test]), n_classes)
                    per_seed.append(balanced_accuracy_score(y[test], np.argmax(proba, axis=1)))
                scores.setdefault(f"{name}_seeds", []).append(float(np.mean(per_seed)))
    json.dump({"balancedAccuracy": scores}, sys.stdout)


if __name__ == "__main__":
    main()
