using System.Globalization;
using System.Runtime.InteropServices;
using Xent.Data;

namespace Xent.Diagnostics;

/// <summary>Rows with identical features but different labels.</summary>
/// <param name="Rows">The row indices.</param>
/// <param name="LabelCounts">How many of them carry each class.</param>
/// <param name="Entropy">The entropy of their labels in nats: the lowest cross-entropy a model can reach on them.</param>
public sealed record ConflictGroup(int[] Rows, int[] LabelCounts, double Entropy);

/// <summary>What <see cref="DatasetInspector"/> found.</summary>
public sealed record DatasetInspection
{
    /// <summary>Rows.</summary>
    public int Rows { get; init; }

    /// <summary>Features.</summary>
    public int Features { get; init; }

    /// <summary>Class names.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Rows per class.</summary>
    public required int[] ClassCounts { get; init; }

    /// <summary>Largest class ÷ smallest class (infinity when a class has no rows).</summary>
    public double ImbalanceRatio { get; init; }

    /// <summary>The weights each scheme would give (none for a class without rows).</summary>
    public required IReadOnlyList<(string Scheme, double[]? Weights)> SchemeWeights { get; init; }

    /// <summary>Groups of identical rows carrying different labels.</summary>
    public required IReadOnlyList<ConflictGroup> ConflictingGroups { get; init; }

    /// <summary>The cross-entropy floor they impose: Σ_groups (n_g / N)·H(labels in g), in nats.</summary>
    public double LossFloor { get; init; }

    /// <summary>Columns holding a single value.</summary>
    public required IReadOnlyList<string> ConstantColumns { get; init; }

    /// <summary>Columns holding NaN or infinity.</summary>
    public required IReadOnlyList<string> NonFiniteColumns { get; init; }

    /// <summary>The findings as warnings for a diagnostics sink.</summary>
    /// <returns>The diagnostics (empty when nothing is wrong).</returns>
    public IEnumerable<Diagnostic> Diagnostics()
    {
        if (ConflictingGroups.Count > 0)
        {
            int rows = ConflictingGroups.Sum(g => g.Rows.Length);
            yield return new Diagnostic(DiagnosticCodes.ConflictingLabels, DiagnosticSeverity.Warning, string.Create(CultureInfo.InvariantCulture,
                $"{ConflictingGroups.Count} group(s) of identical feature rows ({rows} rows) carry different labels. A correct model learns their label frequencies, and the mean cross-entropy cannot fall below {LossFloor:F4} nats."));
        }

        if (ConstantColumns.Count > 0)
        {
            yield return new Diagnostic(DiagnosticCodes.ConstantColumns, DiagnosticSeverity.Info, $"{ConstantColumns.Count} constant column(s) carry no information: {string.Join(", ", ConstantColumns.Take(8))}{(ConstantColumns.Count > 8 ? ", …" : string.Empty)}.");
        }

        if (NonFiniteColumns.Count > 0)
        {
            yield return new Diagnostic(DiagnosticCodes.NonFiniteColumns, DiagnosticSeverity.Warning, $"{NonFiniteColumns.Count} column(s) hold NaN or infinity: {string.Join(", ", NonFiniteColumns.Take(8))}. Training refuses such data.");
        }

        if (ImbalanceRatio >= 10)
        {
            yield return new Diagnostic(DiagnosticCodes.ClassImbalance, DiagnosticSeverity.Info, string.Create(CultureInfo.InvariantCulture,
                $"The classes are imbalanced {ImbalanceRatio:G3}:1; consider --class-weights balanced and judge by balanced accuracy or per-class recall."));
        }
    }
}

/// <summary>Checks a dataset before training: class balance, conflicting labels and the loss floor they impose, and unusable columns.</summary>
public static class DatasetInspector
{
    /// <summary>Inspects a dataset.</summary>
    /// <param name="data">The dataset (non-finite values allowed).</param>
    /// <returns>The findings.</returns>
    public static DatasetInspection Inspect(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Inspect((ITrainingRows)data);
    }

    /// <summary>Inspects training rows that may be encoded as they are read (each row is read once, and again only to compare rows whose hashes agree).</summary>
    /// <param name="data">The rows, every one held.</param>
    /// <returns>The findings.</returns>
    internal static DatasetInspection Inspect(ITrainingRows data)
    {
        int n = data.Count, d = data.FeatureCount;
        var counts = new int[data.ClassCount];
        foreach (int y in data.Labels)
        {
            counts[y]++;
        }

        int[] present = [.. counts.Where(c => c > 0)];
        double ratio = present.Length == 0 ? double.NaN : counts.Contains(0) ? double.PositiveInfinity : (double)counts.Max() / counts.Min();
        var schemes = new List<(string, double[]?)>();
        foreach (string scheme in new[] { "inverse", "balanced", "effective:0.999" })
        {
            double[]? weights = null;
            try
            {
                weights = ClassWeights.Parse(scheme).Compute(counts);
            }
            catch (ArgumentException)
            {
            }

            schemes.Add((scheme, weights));
        }

        // One pass: each column's finiteness and constancy, and each row's hash of its bytes.
        float[] row = new float[d], first = new float[d], other = new float[d];
        bool[] finite = [.. Enumerable.Repeat(true, d)], same = [.. Enumerable.Repeat(true, d)];
        var buckets = new Dictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            data.CopyRow(i, row);
            if (i == 0)
            {
                row.CopyTo(first, 0);
            }

            for (int j = 0; j < d; j++)
            {
                finite[j] &= float.IsFinite(row[j]);
                same[j] &= row[j].Equals(first[j]);
            }

            var hash = new HashCode();
            hash.AddBytes(MemoryMarshal.AsBytes(row.AsSpan()));
            ref List<int>? bucket = ref CollectionsMarshal.GetValueRefOrAddDefault(buckets, hash.ToHashCode(), out _);
            (bucket ??= []).Add(i);
        }

        // Rows with identical bytes, in the order of their first row: a bucket splits into groups of equal rows.
        var groups = new List<List<int>>();
        foreach (List<int> bucket in buckets.Values)
        {
            if (bucket.Count < 2)
            {
                continue;
            }

            var split = new List<List<int>>();
            foreach (int r in bucket)
            {
                data.CopyRow(r, row);
                List<int>? match = null;
                foreach (List<int> g in split)
                {
                    data.CopyRow(g[0], other);
                    if (MemoryMarshal.AsBytes(row.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(other.AsSpan())))
                    {
                        match = g;
                        break;
                    }
                }

                if (match is null)
                {
                    split.Add([r]);
                }
                else
                {
                    match.Add(r);
                }
            }

            groups.AddRange(split.Where(g => g.Count > 1));
        }

        groups.Sort((x, y) => x[0].CompareTo(y[0]));
        var conflicts = new List<ConflictGroup>();
        double floor = 0;
        foreach (List<int> rows in groups)
        {
            var labelCounts = new int[data.ClassCount];
            foreach (int r in rows)
            {
                labelCounts[data.Labels[r]]++;
            }

            if (labelCounts.Count(c => c > 0) < 2)
            {
                continue;
            }

            double entropy = 0;
            foreach (int c in labelCounts)
            {
                if (c > 0)
                {
                    double p = (double)c / rows.Count;
                    entropy -= p * Math.Log(p);
                }
            }

            conflicts.Add(new ConflictGroup([.. rows], labelCounts, entropy));
            floor += (double)rows.Count / n * entropy;
        }

        var constant = new List<string>();
        var nonFinite = new List<string>();
        for (int j = 0; j < d; j++)
        {
            if (!finite[j])
            {
                nonFinite.Add(data.FeatureNames[j]);
            }
            else if (same[j])
            {
                constant.Add(data.FeatureNames[j]);
            }
        }

        return new DatasetInspection
        {
            Rows = n,
            Features = d,
            ClassNames = data.ClassNames,
            ClassCounts = counts,
            ImbalanceRatio = ratio,
            SchemeWeights = schemes,
            ConflictingGroups = [.. conflicts.OrderByDescending(g => g.Rows.Length)],
            LossFloor = floor,
            ConstantColumns = constant,
            NonFiniteColumns = nonFinite,
        };
    }
}
