using Xent.Kernels;

namespace Xent.Data;

/// <summary>Small synthetic datasets for experiments and tests.</summary>
public static class SyntheticData
{
    /// <summary>
    /// Two overlapping Gaussian classes: <paramref name="majority"/> rows of class 0 ("cat") ~ N(0, I) and
    /// <paramref name="minority"/> rows of class 1 ("dog") shifted by <paramref name="shift"/> in the first three features.
    /// </summary>
    /// <param name="majority">Rows of class 0.</param>
    /// <param name="minority">Rows of class 1.</param>
    /// <param name="features">Features, at least 3.</param>
    /// <param name="shift">The minority's mean shift.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The dataset.</returns>
    public static Dataset TwoGaussians(int majority, int minority, int features = 10, double shift = 1.0, ulong seed = 11)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 3);
        var random = new XentRandom(seed);
        int n = majority + minority;
        var x = new float[n * features];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i >= majority ? 1 : 0;
            for (int j = 0; j < features; j++)
            {
                x[(i * features) + j] = (float)(random.NextGaussian() + (y[i] == 1 && j < 3 ? shift : 0));
            }
        }

        return new Dataset(x, y, [.. Enumerable.Range(0, features).Select(j => $"f{j}")], ["cat", "dog"]);
    }
}
