#!/usr/bin/env python3
"""Prints the Markdown tables of docs/experiments.md from a `xent compare` summary.csv.

Run:  python3 tools/compare_summary_markdown.py runs/compare-.../summary.csv [--rank-by balanced_accuracy]
                                                  [--metrics accuracy,balanced_accuracy,...] [--recall]

Three tables: the ranking against the baseline (rank, run, mean ± std of every metric, the rank-by metric's paired
difference and p-value with the verdict in compare's words), the paired differences of every metric (better or worse
only where p < 0.05), and with --recall the mean per-class recall. Standard library only.
"""
import argparse, csv

NAMES = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "macro_f1": "macro-F1", "log_loss": "log loss",
         "ece": "ECE", "roc_auc": "ROC AUC", "average_precision": "average precision"}
LOWER_IS_BETTER = {"log_loss", "ece"}


def p_text(p):
    """As CompareCommand.P: enough digits that the text falls on the side of 0.05 the value does."""
    if p in (0.0, 1.0):
        return f"p = {p:g}"
    if p < 0.001:
        return "p < 0.001"
    for digits in range(2, 18):
        text = f"{p:.{digits}g}"
        if (float(text) < 0.05) == (p < 0.05):
            return "p = " + text


def diff(mean, std):
    size = f"{abs(mean):.4f}"
    sign = "" if size == "0.0000" else ("+" if mean > 0 else "−")
    return f"{sign}{size} ± {std:.4f}"


def verdict(row, metric):
    p = row[metric + "_p_value"]
    if p == "":
        return "no test"
    p, mean, std = float(p), float(row[metric + "_diff_mean"]), float(row[metric + "_diff_std"])
    note = ", identical results" if p == 1 and mean == 0 and std == 0 else ", the same difference in every repeat" if p == 0 else ""
    if p >= 0.05:
        return f"no significant difference ({p_text(p)}{note})"
    better = (mean > 0) != (metric in LOWER_IS_BETTER)
    return f"{'better' if better else 'worse'} ({p_text(p)}{note})"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("summary")
    parser.add_argument("--rank-by", default="balanced_accuracy")
    parser.add_argument("--metrics", default="accuracy,balanced_accuracy,macro_f1,log_loss,ece")
    parser.add_argument("--recall", action="store_true")
    args = parser.parse_args()
    with open(args.summary, newline="") as f:
        rows = list(csv.DictReader(f))
    metrics, rank_by = args.metrics.split(","), args.rank_by
    baseline = rows[0]["baseline"]

    print(f"| rank | run | {' | '.join(NAMES[m] for m in metrics)} | {NAMES[rank_by]} − {baseline} | paired t-test |")
    print("|---|---|" + "---|" * (len(metrics) + 2))
    for r in rows:
        cells = [f"{float(r[m + '_mean']):.4f} ± {float(r[m + '_std']):.4f}" if r[m + "_mean"] else "-" for m in metrics]
        is_base = r["verdict"] == "baseline"
        d = "-" if is_base else diff(float(r[rank_by + "_diff_mean"]), float(r[rank_by + "_diff_std"]))
        print(f"| {r['rank']} | {r['run']} | {' | '.join(cells)} | {d} | {'baseline' if is_base else verdict(r, rank_by)} |")

    print()
    print(f"| run − {baseline} | {' | '.join(NAMES[m] for m in metrics)} |")
    print("|---|" + "---|" * len(metrics))
    for r in rows:
        if r["verdict"] == "baseline":
            continue
        cells = []
        for m in metrics:
            v = verdict(r, m)
            word = v.split(" (")[0]
            cells.append(f"{diff(float(r[m + '_diff_mean']), float(r[m + '_diff_std']))}, {p_text(float(r[m + '_p_value']))}" + (f", {word}" if word in ("better", "worse") else ""))
        print(f"| {r['run']} | {' | '.join(cells)} |")

    if args.recall:
        classes = [k[len("recall_"):-len("_mean")] for k in rows[0] if k.startswith("recall_") and k.endswith("_mean")]
        print()
        print(f"| run | {' | '.join('recall ' + c for c in classes)} |")
        print("|---|" + "---|" * len(classes))
        for r in rows:
            recalls = [f"{float(r['recall_' + c + '_mean']):.2f}" for c in classes]
            print(f"| {r['run']} | {' | '.join(recalls)} |")


if __name__ == "__main__":
    main()
