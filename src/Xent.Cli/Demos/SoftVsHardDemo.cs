using Xent.Data;
using Xent.Reports;
using Xent.Training;

namespace Xent.Cli.Demos;

/// <summary>Hard CrossEntropy, the soft cross entropy (CE + uniform CE) and label smoothing 0.1 on digits, with the same seeds and batches.</summary>
internal static class SoftVsHardDemo
{
    public const string Name = "soft-vs-hard";
    public const string Summary = "hard targets, the soft cross entropy and label smoothing on digits, curves per mini-batch";

    public static void Run(DemoContext context)
    {
        Dataset digits = CsvDatasetReader.Read(DemoData.Path("digits.csv"));
        (string Label, LossKind Loss, double Smoothing)[] runs =
        [
            ("hard CE", LossKind.CrossEntropy, 0),
            ("soft CE", LossKind.SoftCrossEntropy, 0),
            ("label smoothing 0.1", LossKind.CrossEntropy, 0.1),
        ];
        context.Say("digits (1797 rows, 10 classes), a 64-64-10 MLP, Adam (lr 0.001), batch 32, 8 epochs, the same split, initialisation and batch order for every run. " +
            "The soft cross entropy CE + mean over classes of −log p is exactly 2 × CE with label smoothing 0.5. Validation loss is plain cross-entropy (log loss) for all runs, so it compares directly; the training losses are each run's own objective.");
        var results = new List<(string Label, PipelineResult Result)>();
        foreach (var r in runs)
        {
            var options = new PipelineOptions
            {
                Loss = r.Loss.Name(),
                LabelSmoothing = r.Smoothing,
                Hidden = [64],
                Trainer = new TrainerOptions { Epochs = 8, BatchSize = 32, Seed = 1, ValidateEverySteps = 5 },
            };
            results.Add((r.Label, TrainingPipeline.Run(digits, options)));
        }

        context.Table("Final results (test split, 359 rows)", ["loss", "test accuracy", "macro-F1", "test log loss", "ECE", "final validation loss"],
            results.Select(r => new[]
            {
                r.Label, DemoContext.F(r.Result.Evaluation.Metrics.Accuracy), DemoContext.F(r.Result.Evaluation.Metrics.MacroF1),
                DemoContext.F(r.Result.Evaluation.LogLoss), DemoContext.F(r.Result.Evaluation.ExpectedCalibrationError),
                DemoContext.F(r.Result.Training.History.Batches.Last(b => !double.IsNaN(b.ValidationLoss)).ValidationLoss),
            }));
        EvaluationResult hard = results[0].Result.Evaluation, smooth = results[2].Result.Evaluation, soft = results[1].Result.Evaluation;
        string confidence = smooth.ExpectedCalibrationError > hard.ExpectedCalibrationError
            ? "here that makes the model underconfident: its ECE and log loss are higher than with hard targets"
            : "here that improves calibration: its ECE is lower than with hard targets";
        context.Say($"Smoothing keeps probabilities away from 0 and 1; {confidence} (ECE {DemoContext.F(hard.ExpectedCalibrationError)} hard, {DemoContext.F(smooth.ExpectedCalibrationError)} with ε = 0.1, {DemoContext.F(soft.ExpectedCalibrationError)} for the soft CE, which is ε = 0.5). " +
            $"Accuracy: {DemoContext.F(hard.Metrics.Accuracy)}, {DemoContext.F(smooth.Metrics.Accuracy)} and {DemoContext.F(soft.Metrics.Accuracy)}. Judge a loss by both: accuracy and the validation log loss tell different stories.");
        LineChart Curve(string title, string y, Func<BatchRecord, double> value, bool validation) => results.Aggregate(
            new LineChart(title, "step", y),
            (chart, r) =>
            {
                var points = r.Result.Training.History.Batches.Where(b => !double.IsNaN(value(b))).ToList();
                return chart.Add(new Series(r.Label, [.. points.Select(b => (double)b.GlobalStep)], [.. points.Select(value)]) { Smoothing = validation ? 0 : 0.1 });
            });
        context.Chart("soft-vs-hard-train-loss", Curve("Training loss per mini-batch (each run's objective)", "loss", b => b.Loss, false));
        context.Chart("soft-vs-hard-train-accuracy", Curve("Training accuracy per mini-batch", "accuracy", b => b.Accuracy, false));
        context.Chart("soft-vs-hard-val-loss", Curve("Validation loss (cross-entropy) every 5 steps", "loss", b => b.ValidationLoss, true));
        context.Chart("soft-vs-hard-val-accuracy", Curve("Validation accuracy every 5 steps", "accuracy", b => b.ValidationAccuracy, true));
    }
}
