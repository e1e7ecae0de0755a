using Xent.Kernels;
using Xent.Data;
using Xent.Metrics;
using Xent.Nn;
using Xent.Optim;
using Xent.Reports;
using Xent.Training;

namespace Xent.Cli.Demos;

/// <summary>Class weights trade per-class accuracy: a 1000:100 two-class set, then long-tailed digits (ratio 50).</summary>
internal static class ImbalanceWeightsDemo
{
    public const string Name = "imbalance-weights";
    public const string Summary = "1000:100 cats and dogs with weights [1,1], [1,10], balanced; then long-tailed digits (ratio 50)";

    public static void Run(DemoContext context)
    {
        // Part 1: cats and dogs.
        Dataset pets = SyntheticData.TwoGaussians(1000, 100, features: 10, shift: 1.0, seed: 11);
        context.Say("1000 cats and 100 dogs, 10 Gaussian features (dogs shifted by 1 in three of them), a 10-16-2 MLP, SGD (lr 0.1, momentum 0.9), batch 32, 20 epochs, 20% stratified test split.");
        (string Label, string Weights)[] petRuns = [("[1, 1]", "1,1"), ("[1, 10]", "1,10"), ("balanced", "balanced")];
        var petResults = petRuns.Select(r => (r.Label, TrainingPipeline.Run(pets, new PipelineOptions
        {
            ClassWeights = ClassWeights.Parse(r.Weights),
            Hidden = [16],
            Optimizer = OptimizerKind.Sgd,
            LearningRate = 0.1,
            ValidationFraction = 0,
            Trainer = new TrainerOptions { Epochs = 20, BatchSize = 32, Seed = 2 },
        }).Evaluation.Metrics)).ToList();
        Table(context, "Cats and dogs: per-class accuracy on the test split (200 cats, 20 dogs)", pets.ClassNames, petResults);
        context.Say("Weighting the dogs more raises their recall and lowers the cats'. 'balanced' (n / (C·n_c) = 0.55 and 5.5) is the same ratio as [1, 10]; under the weighted mean only the ratio matters.");
        context.Chart("imbalance-pets-recall", TrainingCharts.Recall(petResults, pets.ClassNames));

        // Part 2: long-tailed digits, tested on a balanced split.
        Dataset digits = CsvDatasetReader.Read(DemoData.Path("digits.csv"));
        SplitIndices split = StratifiedSplit.Split(digits.Labels, 10, 0, 0.2, seed: 3);
        int[] tailRows = LongTail.Subsample([.. split.Train.Select(i => digits.Labels[i])], 10, 50, seed: 3);
        Dataset trainRaw = digits.Subset([.. tailRows.Select(i => split.Train[i])]);
        Standardizer scaler = Standardizer.Fit(trainRaw);
        Dataset train = scaler.Transform(trainRaw), test = scaler.Transform(digits.Subset(split.Test));
        context.Say($"Long-tailed digits: the training split is subsampled to n_c = n_max·50^(−c/9), {string.Join(", ", train.ClassCounts())} rows for digits 0–9; the test split stays balanced. A 64-64-10 MLP, Adam (lr 0.001), 40 epochs.");
        (string Label, string Weights)[] tailRuns = [("none", "none"), ("balanced", "balanced"), ("effective β=0.99", "effective:0.99")];
        var tailResults = new List<(string, ClassificationMetrics)>();
        foreach (var r in tailRuns)
        {
            Sequential model = Mlp.Create(64, [64], 10, XentRandom.ForStream(3, 0x1417));
            var loss = new TrainingLoss(LossKind.CrossEntropy, ClassWeights.Parse(r.Weights).Compute(train.ClassCounts()));
            Trainer.Fit(model, new Adam(model.Parameters), loss, train, null, new TrainerOptions { Epochs = 40, BatchSize = 32, Seed = 3 });
            tailResults.Add((r.Label, Evaluation.Evaluate(model, test, false).Metrics));
        }

        Table(context, "Long-tailed digits: per-class accuracy on the balanced test split", digits.ClassNames, tailResults);
        ClassificationMetrics plain = tailResults[0].Item2, weighted = tailResults[1].Item2;
        int gainer = Enumerable.Range(0, 10).MaxBy(c => weighted.PerClass[c].Recall - plain.PerClass[c].Recall);
        int loser = Enumerable.Range(0, 10).MinBy(c => weighted.PerClass[c].Recall - plain.PerClass[c].Recall);
        double drop = weighted.PerClass[loser].Recall - plain.PerClass[loser].Recall;
        context.Say($"With balanced weights, digit {gainer} gains the most ({DemoContext.F(plain.PerClass[gainer].Recall, 3)} → {DemoContext.F(weighted.PerClass[gainer].Recall, 3)}); " +
            (drop < 0 ? $"digit {loser} loses the most ({DemoContext.F(plain.PerClass[loser].Recall, 3)} → {DemoContext.F(weighted.PerClass[loser].Recall, 3)}). " : "no class loses recall in this run. ") +
            $"Balanced accuracy goes from {DemoContext.F(plain.BalancedAccuracy, 3)} to {DemoContext.F(weighted.BalancedAccuracy, 3)}. The rarest digits keep low recall: two training rows cannot teach a class, whatever its weight.");
        context.Chart("imbalance-longtail-recall", TrainingCharts.Recall(tailResults, digits.ClassNames));
    }

    private static void Table(DemoContext context, string title, IReadOnlyList<string> classes, IReadOnlyList<(string Label, ClassificationMetrics Metrics)> results)
        => context.Table(title, ["weights", .. classes.Select(c => $"recall {c}"), "balanced acc.", "accuracy", "macro-F1"],
            results.Select(r => (string[])[r.Label, .. r.Metrics.PerClass.Select(s => DemoContext.F(s.Recall, 3)), DemoContext.F(r.Metrics.BalancedAccuracy, 3), DemoContext.F(r.Metrics.Accuracy, 3), DemoContext.F(r.Metrics.MacroF1, 3)]));
}
