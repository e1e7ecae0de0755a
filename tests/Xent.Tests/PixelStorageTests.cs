using Xent.Kernels;
using Xent.Data;
using Xent.Diagnostics;
using Xent.Training;

namespace Xent.Tests;

/// <summary>
/// Images stay bytes: <see cref="PixelColumn"/> reads, hashes, cuts and fits as a float column of the same values, and
/// <see cref="EncodedRows"/> gives the bits and digest of the materialised encoding, so a pipeline trained on bytes
/// gives the model it gives on floats.
/// </summary>
public sealed class PixelStorageTests
{
    /// <summary>n images of d pixels, random bytes with some exact duplicates, and their labels.</summary>
    private static (byte[] Pixels, int[] Labels) Images(int n, int d, int classes, ulong seed)
    {
        var random = new XentRandom(seed);
        var pixels = new byte[n * d];
        for (int i = 0; i < pixels.Length; i++)
        {
            // Mostly dark, as photographs of clothes on black are; a few bright values.
            pixels[i] = (byte)(random.NextSingle() < 0.6f ? 0 : random.NextInt(256));
        }

        // Row 7 repeats row 3 (same label) and row 9 repeats row 3 with another label: one conflicting group.
        pixels.AsSpan(3 * d, d).CopyTo(pixels.AsSpan(7 * d, d));
        pixels.AsSpan(3 * d, d).CopyTo(pixels.AsSpan(9 * d, d));
        int[] labels = [.. Enumerable.Range(0, n).Select(i => random.NextInt(classes))];
        labels[7] = labels[3];
        labels[9] = (labels[3] + 1) % classes;
        return (pixels, labels);
    }

    private static DataTable PixelTable(byte[] pixels, int[] labels, int d, int classes)
        => new([.. Enumerable.Range(0, d).Select(j => (FeatureColumn)new PixelColumn("pixel" + j, pixels, j, d, labels.Length))], labels, [.. Enumerable.Range(0, classes).Select(c => "c" + c)]);

    private static DataTable FloatTable(byte[] pixels, int[] labels, int d, int classes)
        => new([.. Enumerable.Range(0, d).Select(j => (FeatureColumn)new NumericColumn("pixel" + j, [.. Enumerable.Range(0, labels.Length).Select(i => pixels[(i * d) + j] / 255f)]))], labels, [.. Enumerable.Range(0, classes).Select(c => "c" + c)]);

    [Fact]
    public void A_pixel_column_reads_hashes_and_cuts_as_the_float_column_of_its_values()
    {
        (byte[] pixels, int[] labels) = Images(40, 6, 3, 1);
        DataTable bytes = PixelTable(pixels, labels, 6, 3), floats = FloatTable(pixels, labels, 6, 3);
        Assert.Equal(floats.RowHashes(null), bytes.RowHashes(null));
        for (int j = 0; j < 6; j++)
        {
            var p = (PixelColumn)bytes.Columns[j];
            Assert.Equal(ColumnKind.Numeric, p.Kind);
            Assert.Equal(0, p.MissingCount());
            Assert.Equal(((NumericColumn)floats.Columns[j]).Values, Enumerable.Range(0, 40).Select(p.ValueAt));
        }

        DataTable head = bytes.Head(5);
        Assert.Equal(5, head.Count);
        Assert.Equal(floats.Head(5).RowHashes(null), head.RowHashes(null));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PixelColumn("p", pixels, 6, 6, 40));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PixelColumn("p", pixels, 0, 6, 41));
    }

    [Theory]
    [InlineData(41)]
    [InlineData(40)]
    [InlineData(1)]
    [InlineData(2)]
    public void The_histogram_median_is_the_sorted_median(int rowCount)
    {
        (byte[] pixels, int[] labels) = Images(60, 5, 2, (ulong)rowCount);
        int[] rows = [.. Enumerable.Range(0, 60).Where(i => i % 3 != 1).Take(rowCount)];
        DataTable bytes = PixelTable(pixels, labels, 5, 2), floats = FloatTable(pixels, labels, 5, 2);
        foreach (bool standardize in new[] { false, true })
        {
            Preprocessor a = Preprocessor.Fit(bytes, rows, standardize), b = Preprocessor.Fit(floats, rows, standardize);
            // The same encoders, but only the bytes' are marked as pixels (a model trained on CSVs writes no marker).
            Assert.Contains("\"pixels\":true", a.ToJson(), StringComparison.Ordinal);
            Assert.DoesNotContain("pixels\":", b.ToJson(), StringComparison.Ordinal);
            Assert.Equal(b.ToJson(), a.ToJson().Replace(",\"pixels\":true", string.Empty, StringComparison.Ordinal));
        }

        // An even count whose middle values differ, checked by hand: 10/255 and 20/255 give their mean in double.
        byte[] four = [0, 10, 20, 30];
        var column = new PixelColumn("p", four, 0, 1, 4);
        Assert.Equal((float)(((10 / 255f) + (double)(20 / 255f)) / 2), column.Median([0, 1, 2, 3]));
        Assert.Equal(20 / 255f, column.Median([3, 1, 2]));
    }

    [Fact]
    public void Pixels_read_from_floats_for_a_model_trained_on_bytes_must_lie_in_0_to_1()
    {
        (byte[] pixels, int[] labels) = Images(30, 4, 2, 3);
        Preprocessor trained = Preprocessor.FromJson(Preprocessor.Fit(PixelTable(pixels, labels, 4, 2), [.. Enumerable.Range(0, 30)]).ToJson());
        Assert.All(trained.Columns, c => Assert.True(((NumericEncoder)c).Pixels));
        DataTable scaled = FloatTable(pixels, labels, 4, 2);
        Assert.Null(trained.FindPixelOutOfRange(scaled));
        Assert.Equal(30, trained.Transform(scaled).Data.Count);

        // The same values unscaled (0-255), as a CSV of raw pixels holds them: the first cell above 1 is named.
        var raw = new DataTable([.. Enumerable.Range(0, 4).Select(j => (FeatureColumn)new NumericColumn("pixel" + j, [.. Enumerable.Range(0, 30).Select(i => (float)pixels[(i * 4) + j])]))], labels, ["c0", "c1"]);
        int first = Array.FindIndex(pixels, b => b > 1);
        Assert.Equal(("pixel" + (first % 4), first / 4, (float)pixels[first]), trained.FindPixelOutOfRange(raw));
        var e = Assert.Throws<ArgumentException>(() => trained.Transform(raw));
        Assert.StartsWith($"column 'pixel{first % 4}' holds {pixels[first]} at row {(first / 4) + 1}, outside [0, 1]", e.Message, StringComparison.Ordinal);

        // Bytes are always in range, and a model trained on floats takes any value.
        Assert.Null(trained.FindPixelOutOfRange(PixelTable(pixels, labels, 4, 2)));
        Assert.Null(Preprocessor.Fit(scaled, [.. Enumerable.Range(0, 30)]).FindPixelOutOfRange(raw));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Encoded_rows_hold_the_bits_and_digest_of_the_materialised_encoding(bool standardize)
    {
        // 1,100 rows: more than one 1,024-row chunk of the digest; 70 pixels: two 32-byte vectors and a tail.
        const int n = 1100, d = 70;
        (byte[] pixels, int[] labels) = Images(n, d, 4, 5);
        DataTable table = PixelTable(pixels, labels, d, 4);
        int[] rows = [.. Enumerable.Range(0, n).Where(i => i % 4 != 0).Reverse()];
        Preprocessor preprocessor = Preprocessor.Fit(table, rows, standardize);
        Dataset whole = preprocessor.Transform(table, rows).Data;
        EncodedRows lazy = EncodedRows.ForImages(preprocessor, table, rows) ?? throw new InvalidOperationException("an image table has lazy rows");
        Assert.Equal(whole.Labels, lazy.Labels);
        Assert.Equal(whole.FeatureNames, lazy.FeatureNames);
        var row = new float[d];
        for (int i = 0; i < rows.Length; i++)
        {
            lazy.CopyRow(i, row);
            Assert.True(whole.Row(i).SequenceEqual(row), $"row {i} differs");
        }

        Assert.Equal(whole.ContentHash(), lazy.ContentHash());
        Assert.Equal(whole.Features, lazy.Materialize().Features);

        DatasetInspection a = DatasetInspector.Inspect(whole), b = DatasetInspector.Inspect(lazy);
        Assert.Equal(a.ConstantColumns, b.ConstantColumns);
        Assert.Equal(a.LossFloor, b.LossFloor);
        Assert.Equal(a.ConflictingGroups.Select(g => string.Join(",", g.Rows)), b.ConflictingGroups.Select(g => string.Join(",", g.Rows)));
        Assert.Single(b.ConflictingGroups);
    }

    [Fact]
    public void Only_a_table_of_one_buffers_pixels_in_image_order_is_read_lazily()
    {
        (byte[] pixels, int[] labels) = Images(30, 4, 2, 9);
        int[] rows = [.. Enumerable.Range(0, 30)];
        DataTable floats = FloatTable(pixels, labels, 4, 2);
        Assert.Null(EncodedRows.ForImages(Preprocessor.Fit(floats, rows), floats, rows));
        // The same pixel columns in another order (offsets not 0, 1, 2, 3) are encoded the ordinary way.
        var shuffled = new DataTable([.. new[] { 1, 0, 2, 3 }.Select(j => (FeatureColumn)new PixelColumn("pixel" + j, pixels, j, 4, 30))], labels, ["a", "b"]);
        Assert.Null(EncodedRows.ForImages(Preprocessor.Fit(shuffled, rows), shuffled, rows));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_pipeline_on_bytes_trains_the_model_it_trains_on_floats(bool standardize)
    {
        (byte[] pixels, int[] labels) = Images(400, 16, 3, 11);
        var options = new PipelineOptions
        {
            Hidden = [8],
            Standardize = standardize,
            Trainer = new TrainerOptions { Epochs = 2, BatchSize = 32, Seed = 4 },
        };
        PipelineResult a = TrainingPipeline.Run(PixelTable(pixels, labels, 16, 3), options);
        PipelineResult b = TrainingPipeline.Run(FloatTable(pixels, labels, 16, 3), options);
        Assert.Equal(b.Model.Parameters.Count, a.Model.Parameters.Count);
        for (int i = 0; i < a.Model.Parameters.Count; i++)
        {
            Assert.Equal(b.Model.Parameters[i].Value, a.Model.Parameters[i].Value);
        }

        Assert.Equal(b.Evaluation.LogLoss, a.Evaluation.LogLoss);
        Assert.Equal(b.Evaluation.Probabilities, a.Evaluation.Probabilities);
        Assert.Equal(b.Training.History.Epochs.Select(e => e.ValidationLoss), a.Training.History.Epochs.Select(e => e.ValidationLoss));
        Assert.Equal(b.HeldTrainingRows, a.HeldTrainingRows);
        Assert.Equal(b.Info.Preprocessor!.ToJson(), a.Info.Preprocessor!.ToJson().Replace(",\"pixels\":true", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluating_a_table_of_images_through_the_preprocessor_scores_as_its_encoded_floats()
    {
        (byte[] pixels, int[] labels) = Images(1100, 16, 3, 15); // more than two blocks of 512 rows
        var options = new PipelineOptions { Hidden = [8], Standardize = true, Trainer = new TrainerOptions { Epochs = 1, BatchSize = 64, Seed = 6 } };
        PipelineResult trained = TrainingPipeline.Run(PixelTable(pixels, labels, 16, 3), options);
        Preprocessor pre = trained.Info.Preprocessor!;
        DataTable table = PixelTable(pixels, labels, 16, 3);
        Dataset floats = pre.Transform(table).Data;
        EvaluationResult lazy = Evaluation.Evaluate(trained.Model, pre, table, false);
        EvaluationResult whole = Evaluation.Evaluate(trained.Model, floats, false);
        Assert.Equal(whole.Probabilities, lazy.Probabilities);
        Assert.Equal(whole.LogLoss, lazy.LogLoss);
        Assert.Equal(whole.Probabilities, Evaluation.PredictProbabilities(trained.Model, pre, table, false));
        // A CSV-style table (float columns) takes the encoded path and gives the same.
        Assert.Equal(whole.Probabilities, Evaluation.PredictProbabilities(trained.Model, pre, FloatTable(pixels, labels, 16, 3), false));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Held_out_images_stay_bytes_and_score_as_their_floats_would(bool separateTables)
    {
        // Separate validation and test tables (as --test-data fashion-mnist gives), or no held-out split at all (the
        // training rows are scored): the validation curve and the final scores match the run on float columns.
        (byte[] pixels, int[] labels) = Images(300, 16, 3, 12);
        (byte[] valPixels, int[] valLabels) = Images(70, 16, 3, 13);
        (byte[] testPixels, int[] testLabels) = Images(90, 16, 3, 14);
        var options = new PipelineOptions
        {
            Hidden = [8],
            Standardize = true,
            ValidationFraction = 0,
            TestFraction = 0,
            Trainer = new TrainerOptions { Epochs = 2, BatchSize = 32, Seed = 5, ValidateEverySteps = 3 },
        };
        PipelineResult a = separateTables
            ? TrainingPipeline.Run(PixelTable(pixels, labels, 16, 3), options, validation: PixelTable(valPixels, valLabels, 16, 3), test: PixelTable(testPixels, testLabels, 16, 3))
            : TrainingPipeline.Run(PixelTable(pixels, labels, 16, 3), options);
        PipelineResult b = separateTables
            ? TrainingPipeline.Run(FloatTable(pixels, labels, 16, 3), options, validation: FloatTable(valPixels, valLabels, 16, 3), test: FloatTable(testPixels, testLabels, 16, 3))
            : TrainingPipeline.Run(FloatTable(pixels, labels, 16, 3), options);
        Assert.Equal(separateTables ? "test" : "train", a.EvaluatedOn);
        Assert.Equal(separateTables ? 90 : 300, a.Evaluation.Predicted.Length);
        Assert.Equal(b.Evaluation.Probabilities, a.Evaluation.Probabilities);
        Assert.Equal(b.Evaluation.LogLoss, a.Evaluation.LogLoss);
        Assert.Equal(b.Training.History.Batches.Select(r => r.ValidationLoss), a.Training.History.Batches.Select(r => r.ValidationLoss));
        Assert.Equal(separateTables, a.Training.History.Epochs.All(e => double.IsFinite(e.ValidationLoss)));
        for (int i = 0; i < a.Model.Parameters.Count; i++)
        {
            Assert.Equal(b.Model.Parameters[i].Value, a.Model.Parameters[i].Value);
        }
    }
}
