namespace Xent.Data;

/// <summary>A classification dataset: a float32 feature matrix (row-major), integer labels in [0, C), and names.</summary>
public sealed class Dataset : ITrainingRows
{
    /// <summary>Creates a dataset, checking that the parts agree.</summary>
    /// <param name="features">Count × FeatureCount values, row-major.</param>
    /// <param name="labels">Count class indices in [0, ClassNames.Count).</param>
    /// <param name="featureNames">One name per feature.</param>
    /// <param name="classNames">One name per class; the index is the label.</param>
    /// <exception cref="ArgumentException">The sizes disagree or a label is out of range.</exception>
    public Dataset(float[] features, int[] labels, IReadOnlyList<string> featureNames, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(featureNames);
        ArgumentNullException.ThrowIfNull(classNames);
        if (features.Length != (long)labels.Length * featureNames.Count)
        {
            throw new ArgumentException($"{labels.Length} rows × {featureNames.Count} features need {(long)labels.Length * featureNames.Count} values, got {features.Length}.", nameof(features));
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
            {
                throw new ArgumentException($"Label {labels[i]} of row {i} is outside [0, {classNames.Count}).", nameof(labels));
            }
        }

        Features = features;
        Labels = labels;
        FeatureNames = featureNames;
        ClassNames = classNames;
    }

    /// <summary>Count × FeatureCount values, row-major.</summary>
    public float[] Features { get; }

    /// <summary>The class index of each row.</summary>
    public int[] Labels { get; }

    /// <summary>Feature names.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Class names; a label indexes this list.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Rows.</summary>
    public int Count => Labels.Length;

    /// <summary>Features per row.</summary>
    public int FeatureCount => FeatureNames.Count;

    /// <summary>Classes.</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>One row's features.</summary>
    /// <param name="row">The row.</param>
    /// <returns>Its features.</returns>
    public ReadOnlySpan<float> Row(int row) => Features.AsSpan(row * FeatureCount, FeatureCount);

    /// <inheritdoc />
    void ITrainingRows.CopyRow(int row, Span<float> destination) => Row(row).CopyTo(destination);

    /// <summary>Rows per class.</summary>
    /// <returns>The counts, indexed by label.</returns>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (int y in Labels)
        {
            counts[y]++;
        }

        return counts;
    }

    /// <summary>A digest of the rows' content (features, labels, feature and class names), for checking that a resumed run trains on the same data.</summary>
    /// <returns>Text such as <c>120 rows x 4 features, sha256 0123456789abcdef</c>.</returns>
    public string ContentHash()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Features.AsSpan()));
        return FinishContentHash(hash, Labels, FeatureNames, ClassNames);
    }

    /// <summary>
    /// Ends <see cref="ContentHash"/> for a hash that has been given every row's features, row by row (in one piece or
    /// in chunks: the digest is the same): adds the labels and the names and formats the digest.
    /// </summary>
    internal static string FinishContentHash(System.Security.Cryptography.IncrementalHash hash, int[] labels, IReadOnlyList<string> featureNames, IReadOnlyList<string> classNames)
    {
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.AsSpan()));
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", featureNames) + "\n\n" + string.Join("\n", classNames)));
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{labels.Length} rows x {featureNames.Count} features, sha256 {Convert.ToHexStringLower(hash.GetHashAndReset())[..16]}");
    }

    /// <summary>A new dataset of the given rows, in the given order (rows may repeat).</summary>
    /// <param name="rows">Row indices.</param>
    /// <returns>The subset; names are shared.</returns>
    public Dataset Subset(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int d = FeatureCount;
        var features = new float[rows.Count * d];
        var labels = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            Row(rows[i]).CopyTo(features.AsSpan(i * d, d));
            labels[i] = Labels[rows[i]];
        }

        return new Dataset(features, labels, FeatureNames, ClassNames);
    }
}
