using Xent.Kernels;
using System.Text;
using Xent.Data;
using Xent.Training;

namespace Xent.Tests;

public sealed class DataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static string RepoFile(params string[] parts)
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Xent.slnx")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("Xent.slnx not found above the test directory.");
        }

        return Path.Combine([dir, .. parts]);
    }

    private string Write(string text, string name = "data.csv")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Digits_loads_with_numeric_classes_in_order()
    {
        Dataset d = CsvDatasetReader.Read(RepoFile("data", "digits.csv"));
        Assert.Equal(1797, d.Count);
        Assert.Equal(64, d.FeatureCount);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], d.ClassNames);
        Assert.All(d.ClassCounts(), n => Assert.InRange(n, 174, 183));
    }

    [Fact]
    public void String_labels_map_to_classes_in_ordinal_order()
    {
        Dataset d = CsvDatasetReader.Read(RepoFile("data", "breast_cancer.csv"));
        Assert.Equal(["benign", "malignant"], d.ClassNames);
        Assert.Equal([357, 212], d.ClassCounts());
    }

    [Fact]
    public void The_label_column_can_be_chosen_by_name()
    {
        string path = Write("y,a,b\ncat,1,2\ndog,3,4\ncat,5,6\n");
        Dataset d = CsvDatasetReader.Read(path, new CsvReadOptions { LabelColumn = "y" });
        Assert.Equal(["a", "b"], d.FeatureNames);
        Assert.Equal([0, 1, 0], d.Labels);
        Assert.Equal([1f, 2, 3, 4, 5, 6], d.Features);
    }

    [Theory]
    [InlineData("a,b,label\n1,2,x\n3,4\n", "data.csv:3:3: ragged row: expected 3 fields as in the header, found 2.")]
    [InlineData("a,b,label\n1,2,x\n3,oops,y\n", "data.csv:3:2: column 'b' holds 'oops', which is not a number.")]
    [InlineData("a,b,label\n1,NaN,x\n", "data.csv:2:2: column 'b' holds NaN; features must be finite")]
    [InlineData("a,b,label\n1,inf,x\n", "data.csv:2:2: column 'b' holds inf; features must be finite")]
    [InlineData("a,b,c\n1,2,3\n", "data.csv:1: no label column named 'label'; the header has: a, b, c. Choose")]
    [InlineData("a,b,Target\n1,2,3\n", "data.csv:1: no label column named 'label'; the header has: a, b, Target. 'Target' looks like the label: --label Target. Choose")]
    [InlineData("", "data.csv: the file is empty")]
    [InlineData("a,b,label\n", "data.csv: the file has a header but no data rows.")]
    [InlineData("a,b,label\n1,2,\n", "data.csv:2:3: empty label in column 'label'.")]
    public void Malformed_files_name_the_file_line_and_column(string text, string message)
    {
        string path = Write(text);
        var e = Assert.Throws<DataFormatException>(() => CsvDatasetReader.Read(path));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void A_million_rows_stream_without_holding_the_text()
    {
        string path = Path.Combine(_dir, "big.csv");
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16))
        {
            writer.Write("f1,f2,f3,f4,label\n");
            var random = new XentRandom(1);
            for (int i = 0; i < 1_000_000; i++)
            {
                writer.Write($"{random.NextInt(1000)}.123456,{random.NextInt(100)}.654321,{i % 7}.250001,-{random.NextInt(50)}.987654,{(i % 3 == 0 ? "yes" : "no")}\n");
            }
        }

        long size = new FileInfo(path).Length;
        long before = GC.GetAllocatedBytesForCurrentThread();
        Dataset d = CsvDatasetReader.Read(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1_000_000, d.Count);
        Assert.Equal(["no", "yes"], d.ClassNames);
        Assert.Equal(333_334, d.ClassCounts()[1]);
        // Holding the text as .NET strings alone would allocate twice the file's size (UTF-16); the floats take
        // under a third of it, so streaming stays well below the file's size.
        Assert.True(allocated < size, $"allocated {allocated:N0} bytes for a {size:N0}-byte file");
    }

    [Fact]
    public void Stratified_split_keeps_class_proportions_and_is_seeded()
    {
        int[] labels = [.. Enumerable.Range(0, 1100).Select(i => i < 1000 ? 0 : 1)];
        SplitIndices s = StratifiedSplit.Split(labels, 2, 0.1, 0.2, seed: 3);
        Assert.Equal(1100, s.Train.Length + s.Validation.Length + s.Test.Length);
        Assert.Equal(200, s.Test.Count(i => labels[i] == 0));
        Assert.Equal(20, s.Test.Count(i => labels[i] == 1));
        Assert.Equal(10, s.Validation.Count(i => labels[i] == 1));
        Assert.Empty(s.Train.Intersect(s.Test));
        Assert.Equal(s.Test, StratifiedSplit.Split(labels, 2, 0.1, 0.2, seed: 3).Test);
        Assert.NotEqual(s.Test, StratifiedSplit.Split(labels, 2, 0.1, 0.2, seed: 4).Test);
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedSplit.Split(labels, 2, 0.5, 0.5, 1));
    }

    [Fact]
    public void Batch_order_depends_only_on_seed_and_epoch()
    {
        int[] rows = [.. Enumerable.Range(0, 50)];
        Assert.Equal(BatchOrder.ForEpoch(rows, 1, 3), BatchOrder.ForEpoch(rows, 1, 3));
        Assert.NotEqual(BatchOrder.ForEpoch(rows, 1, 3), BatchOrder.ForEpoch(rows, 1, 4));
        Assert.Equal(rows, BatchOrder.ForEpoch(rows, 1, 3).Order());
        Assert.Equal(4, BatchOrder.BatchCount(50, 16));
    }

    [Fact]
    public void Standardizer_is_fitted_on_the_given_rows_only()
    {
        var d = new Dataset([0, 10, 2, 10, 100, 10], [0, 0, 1], ["a", "b"], ["x", "y"]);
        Standardizer s = Standardizer.Fit(d, [0, 1]);
        Assert.Equal([1f, 10], s.Mean);
        Assert.Equal([1f, 1], s.Scale); // b is constant: scale 1
        Dataset t = s.Transform(d);
        Assert.Equal([-1f, 0, 1, 0, 99, 0], t.Features);
    }

    [Fact]
    public void Weighted_sampler_balances_classes()
    {
        int[] labels = [.. Enumerable.Range(0, 1100).Select(i => i < 1000 ? 0 : 1)];
        var sampler = new WeightedRandomSampler(WeightedRandomSampler.BalancingWeights(labels, 2));
        int[] drawn = sampler.Sample(20000, new XentRandom(2));
        double minority = drawn.Count(i => labels[i] == 1) / 20000.0;
        Assert.InRange(minority, 0.48, 0.52);
        Assert.Throws<ArgumentException>(() => new WeightedRandomSampler([0.0, 0.0]));
    }

    [Fact]
    public void Long_tail_follows_the_exponential_profile()
    {
        int[] labels = [.. Enumerable.Range(0, 1000).Select(i => i / 100)]; // 10 classes × 100
        int[] kept = LongTail.Subsample(labels, 10, 50, seed: 1);
        int[] counts = new int[10];
        foreach (int i in kept)
        {
            counts[labels[i]]++;
        }

        for (int c = 0; c < 10; c++)
        {
            Assert.Equal((int)Math.Floor(100 * Math.Pow(50, -c / 9.0)), counts[c]);
        }

        Assert.Equal(100, counts[0]);
        Assert.Equal(2, counts[9]);
    }

    [Fact]
    public void Class_weight_schemes_follow_their_formulas()
    {
        int[] counts = [1000, 100];
        Assert.Null(ClassWeights.Parse("none").Compute(counts));
        Assert.Equal([1.1, 11.0], ClassWeights.Parse("inverse").Compute(counts)!.Select(w => Math.Round(w, 12)));
        Assert.Equal([0.55, 5.5], ClassWeights.Parse("balanced").Compute(counts)!.Select(w => Math.Round(w, 12)));
        double[] effective = ClassWeights.Parse("effective:0.99").Compute(counts)!;
        double e0 = 0.01 / (1 - Math.Pow(0.99, 1000)), e1 = 0.01 / (1 - Math.Pow(0.99, 100));
        Assert.Equal(2 * e0 / (e0 + e1), effective[0], 12);
        Assert.Equal(2.0, effective.Sum(), 12);
        Assert.Equal([1.0, 10.0], ClassWeights.Parse("1,10").Compute(counts)!);
        Assert.Throws<FormatException>(() => ClassWeights.Parse("effective:2"));
        Assert.Throws<FormatException>(() => ClassWeights.Parse("1,x"));
        Assert.Throws<ArgumentException>(() => ClassWeights.Parse("1,2,3").Compute(counts));
    }
}
