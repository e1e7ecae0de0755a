#!/usr/bin/python3
"""Splits data/penguins_raw.csv into data/penguins_train.csv and data/penguins_test.csv (stratified by Species, 20% test,
random_state 0: the split of seed 0 in tools/compare_defaults_sklearn.py) and prints the reference accuracy of a
scikit-learn pipeline on it (SimpleImputer, OneHotEncoder, StandardScaler, MLPClassifier(64)), for docs/data.md.
Needs Debian's python3-sklearn and python3-pandas. The two CSVs are committed; tests and the docs never need Python."""
import os
import warnings

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DROP = ["studyName", "Sample Number", "Individual ID", "Date Egg", "Comments"]
warnings.filterwarnings("ignore", category=ConvergenceWarning)
df = pd.read_csv(os.path.join(ROOT, "data/penguins_raw.csv"))
train, test = train_test_split(df, test_size=0.2, stratify=df["Species"], random_state=0)
train.to_csv(os.path.join(ROOT, "data/penguins_train.csv"), index=False)
test.to_csv(os.path.join(ROOT, "data/penguins_test.csv"), index=False)
x = train.drop(columns=DROP + ["Species"])
numeric = [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]
categorical = [c for c in x.columns if c not in numeric]
pre = ColumnTransformer([
    ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), numeric),
    ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), categorical),
])
for seed in range(10):
    model = make_pipeline(pre, MLPClassifier(hidden_layer_sizes=(64,), random_state=seed)).fit(x, train["Species"])
    pred = model.predict(test[x.columns])
    print(f"seed {seed}: accuracy {accuracy_score(test['Species'], pred):.4f}, balanced accuracy {balanced_accuracy_score(test['Species'], pred):.4f}")
print(f"train {len(train)} rows, test {len(test)} rows; numeric {numeric}; categorical {categorical}")
