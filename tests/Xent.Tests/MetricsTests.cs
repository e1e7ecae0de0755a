using System.Text.Json;
using Xent.Metrics;

namespace Xent.Tests;

/// <summary>Metrics against scikit-learn's values (tools/generate_training_cases.py).</summary>
public class MetricsTests
{
    public static IEnumerable<object[]> Cases() => [[0], [1], [2]];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Metrics_match_scikit_learn(int index)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "metrics-cases.json")));
        JsonElement c = doc.RootElement.GetProperty("cases")[index];
        int classes = c.GetProperty("classes").GetInt32();
        int[] truth = [.. c.GetProperty("y_true").EnumerateArray().Select(e => e.GetInt32())];
        int[] predicted = [.. c.GetProperty("y_pred").EnumerateArray().Select(e => e.GetInt32())];
        float[] proba = [.. c.GetProperty("proba").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(e => (float)e.GetDouble())];
        ClassificationMetrics m = ClassificationMetrics.Compute(truth, predicted, classes);
        Assert.Equal(c.GetProperty("accuracy").GetDouble(), m.Accuracy, 12);
        Assert.Equal(c.GetProperty("balanced_accuracy").GetDouble(), m.BalancedAccuracy, 12);
        Assert.Equal(c.GetProperty("macro_f1").GetDouble(), m.MacroF1, 12);
        Assert.Equal(c.GetProperty("weighted_f1").GetDouble(), m.WeightedF1, 12);
        for (int k = 0; k < classes; k++)
        {
            Assert.Equal(c.GetProperty("precision")[k].GetDouble(), m.PerClass[k].Precision, 12);
            Assert.Equal(c.GetProperty("recall")[k].GetDouble(), m.PerClass[k].Recall, 12);
            Assert.Equal(c.GetProperty("f1")[k].GetDouble(), m.PerClass[k].F1, 12);
            Assert.Equal(c.GetProperty("support")[k].GetInt64(), m.PerClass[k].Support);
            for (int p = 0; p < classes; p++)
            {
                Assert.Equal(c.GetProperty("confusion")[k][p].GetInt64(), m.Confusion.Counts[k, p]);
            }
        }

        Assert.Equal(c.GetProperty("log_loss").GetDouble(), Calibration.LogLoss(truth, proba, classes), 6);
        Assert.Equal(c.GetProperty("ece").GetDouble(), Calibration.ExpectedCalibrationError(truth, proba, classes, bins: 10), 6);
        string[] names = [.. Enumerable.Range(0, classes).Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal(c.GetProperty("report").GetString(), ClassificationReport.Format(m, names));
    }

    [Fact]
    public void Reliability_bins_cover_every_prediction()
    {
        int[] truth = [0, 1, 1, 0];
        float[] proba = [0.9f, 0.1f, 0.35f, 0.65f, 0.25f, 0.75f, 0.55f, 0.45f]; // away from bin edges
        ReliabilityBin[] bins = Calibration.Reliability(truth, proba, 2, 5);
        Assert.Equal(4, bins.Sum(b => b.Count));
        Assert.Equal(1, bins[4].Count); // 0.9 falls in (0.8, 1]
        Assert.Equal(1.0, bins[4].Accuracy);
    }

    [Fact]
    public void Mismatched_lengths_and_out_of_range_classes_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new ConfusionMatrix([0, 1], [0], 2));
        Assert.Throws<ArgumentException>(() => new ConfusionMatrix([0, 2], [0, 1], 2));
        Assert.Throws<ArgumentException>(() => Calibration.LogLoss([0], [0.5f], 2));
    }
}
