namespace Xent.Data;

/// <summary>
/// Standardisation fitted on the training split only: x' = (x − mean) / std per feature, with the population
/// standard deviation (as scikit-learn's StandardScaler); a constant feature keeps std 1.
/// </summary>
public sealed class Standardizer
{
    /// <summary>Creates a standardiser from known statistics (for example from a model file).</summary>
    /// <param name="mean">Per-feature means.</param>
    /// <param name="scale">Per-feature standard deviations (non-zero).</param>
    public Standardizer(float[] mean, float[] scale)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(scale);
        if (mean.Length != scale.Length)
        {
            throw new ArgumentException($"{mean.Length} means but {scale.Length} scales.", nameof(scale));
        }

        if (scale.Any(s => !(s > 0) || !float.IsFinite(s)))
        {
            throw new ArgumentException("Every scale must be a finite number > 0.", nameof(scale));
        }

        Mean = mean;
        Scale = scale;
    }

    /// <summary>Per-feature means.</summary>
    public float[] Mean { get; }

    /// <summary>Per-feature standard deviations.</summary>
    public float[] Scale { get; }

    /// <summary>Fits on rows of a dataset (the training split).</summary>
    /// <param name="data">The dataset.</param>
    /// <param name="rows">The rows to fit on; <see langword="null"/> for all.</param>
    /// <returns>The standardiser.</returns>
    public static Standardizer Fit(Dataset data, IReadOnlyList<int>? rows = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        int d = data.FeatureCount;
        int n = rows?.Count ?? data.Count;
        if (n == 0)
        {
            throw new ArgumentException("Cannot fit a standardiser on no rows.", nameof(rows));
        }

        var sum = new double[d];
        var sumSq = new double[d];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> x = data.Row(rows?[i] ?? i);
            for (int j = 0; j < d; j++)
            {
                sum[j] += x[j];
            }
        }

        var mean = new float[d];
        for (int j = 0; j < d; j++)
        {
            mean[j] = (float)(sum[j] / n);
        }

        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> x = data.Row(rows?[i] ?? i);
            for (int j = 0; j < d; j++)
            {
                double c = x[j] - (sum[j] / n);
                sumSq[j] += c * c;
            }
        }

        var scale = new float[d];
        for (int j = 0; j < d; j++)
        {
            double std = Math.Sqrt(sumSq[j] / n);
            scale[j] = std > 1e-12 ? (float)std : 1f;
        }

        return new Standardizer(mean, scale);
    }

    /// <summary>Returns a standardised copy of a dataset.</summary>
    /// <param name="data">The dataset.</param>
    /// <returns>The copy.</returns>
    /// <exception cref="ArgumentException">The feature count differs from the fitted one.</exception>
    public Dataset Transform(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var features = new float[data.Features.Length];
        Apply(data, features);
        return new Dataset(features, data.Labels, data.FeatureNames, data.ClassNames);
    }

    /// <summary>Standardises a dataset's features in place (for a dataset the caller owns, such as a fresh subset), saving a copy.</summary>
    /// <param name="data">The dataset; its feature array is overwritten.</param>
    /// <returns>The same dataset.</returns>
    /// <exception cref="ArgumentException">The feature count differs from the fitted one.</exception>
    public Dataset TransformInPlace(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Apply(data, data.Features);
        return data;
    }

    private void Apply(Dataset data, float[] destination)
    {
        if (data.FeatureCount != Mean.Length)
        {
            throw new ArgumentException($"The data has {data.FeatureCount} features; the standardiser was fitted on {Mean.Length}.", nameof(data));
        }

        int d = Mean.Length;
        float[] source = data.Features;
        for (int i = 0; i < data.Count; i++)
        {
            for (int j = 0; j < d; j++)
            {
                destination[(i * d) + j] = (source[(i * d) + j] - Mean[j]) / Scale[j];
            }
        }
    }
}
