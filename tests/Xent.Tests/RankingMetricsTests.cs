using System.Text.Json;
using Xent.Metrics;

namespace Xent.Tests;

/// <summary>ROC AUC and average precision against scikit-learn (tools/generate_ranking_cases.py), and their curves.</summary>
public class RankingMetricsTests
{
    private static readonly Lazy<JsonDocument> Golden = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "ranking-cases.json"))));

    public static IEnumerable<object[]> Cases() => Enumerable.Range(0, 8).Select(i => new object[] { i });

    private static (JsonElement Case, int[] Truth, float[] Proba, int Classes) Load(int index)
    {
        JsonElement c = Golden.Value.RootElement.GetProperty("cases")[index];
        int classes = c.GetProperty("classes").GetInt32();
        int[] truth = [.. c.GetProperty("y_true").EnumerateArray().Select(e => e.GetInt32())];
        float[] proba = [.. c.GetProperty("proba").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(e => (float)e.GetDouble())];
        return (c, truth, proba, classes);
    }

    private static double[] Doubles(JsonElement e) => [.. e.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.PositiveInfinity : v.GetDouble())];

    [Fact]
    public void The_golden_file_has_every_case() => Assert.Equal(8, Golden.Value.RootElement.GetProperty("cases").GetArrayLength());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Roc_auc_and_average_precision_match_scikit_learn(int index)
    {
        (JsonElement c, int[] truth, float[] proba, int classes) = Load(index);
        RankingMetrics m = RankingMetrics.Compute(truth, proba, classes);
        string name = c.GetProperty("name").GetString()!;
        Assert.True(Math.Abs(c.GetProperty("roc_auc").GetDouble() - m.RocAuc) < 1e-12, $"{name}: ROC AUC {m.RocAuc}, scikit-learn {c.GetProperty("roc_auc").GetDouble()}");
        Assert.True(Math.Abs(c.GetProperty("average_precision").GetDouble() - m.AveragePrecision) < 1e-12, $"{name}: AP {m.AveragePrecision}, scikit-learn {c.GetProperty("average_precision").GetDouble()}");
        double[] auc = Doubles(c.GetProperty("per_class_roc_auc")), ap = Doubles(c.GetProperty("per_class_average_precision"));
        for (int k = 0; k < classes; k++)
        {
            Assert.Equal(auc[k], m.PerClassRocAuc[k], 12);
            Assert.Equal(ap[k], m.PerClassAveragePrecision[k], 12);
        }

        Assert.Equal(classes == 2 ? 1 : classes, m.AveragedClasses);
        Assert.Equal(classes == 2, m.IsBinary);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Binary_curves_match_scikit_learn_point_for_point(int index)
    {
        (JsonElement c, int[] truth, float[] proba, int classes) = Load(index);
        if (classes != 2)
        {
            return;
        }

        RocCurve roc = RocCurve.Compute(truth, proba, 2, 1);
        double[] fpr = Doubles(c.GetProperty("roc_fpr")), tpr = Doubles(c.GetProperty("roc_tpr")), thresholds = Doubles(c.GetProperty("roc_thresholds"));
        Assert.Equal(fpr.Length, roc.FalsePositiveRate.Length);
        for (int k = 0; k < fpr.Length; k++)
        {
            Assert.Equal(fpr[k], roc.FalsePositiveRate[k], 14);
            Assert.Equal(tpr[k], roc.TruePositiveRate[k], 14);
        }

        // scikit-learn 1.2 puts max + 1 where newer versions (and Xent) put +∞.
        Assert.Equal(double.PositiveInfinity, roc.Thresholds[0]);
        Assert.Equal(thresholds[1..], roc.Thresholds[1..]);

        // scikit-learn lists the precision-recall curve from the lowest threshold up; Xent from recall 0 up.
        PrecisionRecallCurve pr = PrecisionRecallCurve.Compute(truth, proba, 2, 1);
        double[] precision = [.. Doubles(c.GetProperty("pr_precision")).Reverse()], recall = [.. Doubles(c.GetProperty("pr_recall")).Reverse()];
        Assert.Equal(precision.Length, pr.Precision.Length);
        for (int k = 0; k < precision.Length; k++)
        {
            Assert.Equal(precision[k], pr.Precision[k], 14);
            Assert.Equal(recall[k], pr.Recall[k], 14);
        }

        // The drawn step curve's area is the average precision; the drawn ROC curve is the exact one.
        RankingMetrics m = RankingMetrics.Compute(truth, proba, 2);
        Assert.Equal(pr.AveragePrecision, Area(m.PrecisionRecall), 12);
        Assert.Equal(roc.Auc, Trapezoid(m.Roc), 12);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Macro_curves_have_about_the_macro_area(int index)
    {
        (JsonElement _, int[] truth, float[] proba, int classes) = Load(index);
        RankingMetrics m = RankingMetrics.Compute(truth, proba, classes);
        if (classes == 2)
        {
            return;
        }

        Assert.Equal(RankingMetrics.MacroGridPoints + 1, m.Roc.X.Length);
        Assert.Equal((0.0, 0.0), (m.Roc.X[0], m.Roc.Y[0]));
        Assert.Equal((1.0, 1.0), (m.Roc.X[^1], m.Roc.Y[^1]));
        Assert.True(m.Roc.Y.Zip(m.Roc.Y.Skip(1)).All(p => p.First <= p.Second + 1e-15), "the macro ROC curve is not non-decreasing");
        Assert.InRange(Trapezoid(m.Roc) - m.RocAuc, -0.01, 0.01);
        Assert.Equal(1.0, m.PrecisionRecall.Y[0]);
        Assert.InRange(LeftRiemann(m.PrecisionRecall) - m.AveragePrecision, -0.02, 0.02);
    }

    [Fact]
    public void Auc_is_the_share_of_positive_negative_pairs_ranked_right_with_ties_as_half()
    {
        var random = new Random(3);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = random.Next(2, 60);
            int[] truth = [.. Enumerable.Range(0, n).Select(_ => random.Next(2))];
            truth[0] = 0;
            truth[1] = 1;
            float[] p1 = [.. Enumerable.Range(0, n).Select(_ => random.Next(6) / 5f)];
            float[] proba = [.. p1.SelectMany(p => new[] { 1 - p, p })];
            double pairs = 0, wins = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    if (truth[i] == 1 && truth[j] == 0)
                    {
                        pairs++;
                        wins += p1[i] > p1[j] ? 1 : p1[i] == p1[j] ? 0.5 : 0;
                    }
                }
            }

            Assert.Equal(wins / pairs, RankingMetrics.Compute(truth, proba, 2).RocAuc, 12);
        }
    }

    [Fact]
    public void Undefined_classes_are_left_out_of_the_macro_average_and_are_NaN()
    {
        // Class 2 has no rows: its ROC AUC and AP are undefined; the macro averages cover classes 0 and 1.
        int[] truth = [0, 0, 1, 1, 0];
        float[] proba = [0.7f, 0.2f, 0.1f, 0.5f, 0.4f, 0.1f, 0.2f, 0.7f, 0.1f, 0.3f, 0.6f, 0.1f, 0.6f, 0.3f, 0.1f];
        RankingMetrics m = RankingMetrics.Compute(truth, proba, 3);
        Assert.True(double.IsNaN(m.PerClassRocAuc[2]));
        Assert.True(double.IsNaN(m.PerClassAveragePrecision[2]));
        Assert.Equal(2, m.AveragedClasses);
        Assert.Equal((m.PerClassRocAuc[0] + m.PerClassRocAuc[1]) / 2, m.RocAuc, 15);
        Assert.Equal((m.PerClassAveragePrecision[0] + m.PerClassAveragePrecision[1]) / 2, m.AveragePrecision, 15);

        // Positives only: no ROC curve (no negatives), but average precision is defined (1), as in scikit-learn.
        RankingMetrics single = RankingMetrics.Compute([1, 1], [0.2f, 0.8f, 0.6f, 0.4f], 2);
        Assert.True(double.IsNaN(single.RocAuc));
        Assert.Equal(1.0, single.AveragePrecision);
        Assert.Empty(single.Roc.X);
        Assert.NotEmpty(single.PrecisionRecall.X);
        Assert.Equal(0, single.AveragedClasses);

        // A NaN score leaves the class undefined rather than throwing.
        Assert.True(double.IsNaN(RankingMetrics.Compute([0, 1], [0.5f, float.NaN, 0.5f, 0.5f], 2).RocAuc));

        // No rows at all.
        Assert.True(double.IsNaN(RankingMetrics.Compute([], [], 3).RocAuc));
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => RankingMetrics.Compute([0, 1], [0.5f, 0.5f, 0.5f], 2));
        Assert.Throws<ArgumentException>(() => RankingMetrics.Compute([0, 2], [0.5f, 0.5f, 0.5f, 0.5f], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => RankingMetrics.Compute([0], [1f], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => RocCurve.Compute([0, 1], [0.5f, 0.5f, 0.5f, 0.5f], 2, 2));
    }

    private static double Trapezoid(CurvePoints c) => Enumerable.Range(1, c.X.Length - 1).Sum(i => (c.X[i] - c.X[i - 1]) * (c.Y[i] + c.Y[i - 1]) / 2);

    /// <summary>The area of a step curve drawn as corners: each horizontal run times its height.</summary>
    private static double Area(CurvePoints c) => Enumerable.Range(1, c.X.Length - 1).Sum(i => (c.X[i] - c.X[i - 1]) * c.Y[i]);

    /// <summary>A right-continuous step function sampled on a grid: each interval takes its right end's value.</summary>
    private static double LeftRiemann(CurvePoints c) => Enumerable.Range(1, c.X.Length - 1).Sum(i => (c.X[i] - c.X[i - 1]) * c.Y[i]);
}
