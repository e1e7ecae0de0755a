using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Xent.Kernels;

namespace Xent.Losses;

/// <summary>
/// The (N, C, S) view of an input with class-index targets, after PyTorch's <c>nll_loss_nd</c> shape checks
/// in PyTorch's order (newest messages).
/// </summary>
internal readonly record struct IndexTargetLayout(int N, int C, int S)
{
    public int Positions => N * S;

    public static IndexTargetLayout Create<T>(ReadOnlyTensorSpan<T> input, ReadOnlyTensorSpan<int> target, int? weightLength)
    {
        ReadOnlySpan<nint> x = input.Lengths;
        ReadOnlySpan<nint> t = target.Lengths;
        int rank = x.Length;
        if (rank == 0)
        {
            throw new ArgumentException("Expected 1 or more dimensions (got 0)", nameof(input));
        }

        if (rank != 1 && x[0] != t[0])
        {
            throw new ArgumentException($"Expected input batch_size ({x[0]}) to match target batch_size ({t[0]}).", nameof(target));
        }

        int c = checked((int)(rank == 1 ? x[0] : x[1]));
        if (rank <= 2)
        {
            if (t.Length > 1)
            {
                throw new ArgumentException("0D or 1D target tensor expected, multi-target not supported", nameof(target));
            }

            if (rank == 1 && t[0] != 1)
            {
                throw new ArgumentException($"For 1D input, 1D target must have size 1, but got target size: {t[0]}", nameof(target));
            }

            if (weightLength is int w && w != c)
            {
                throw new ArgumentException($"weight tensor should be defined either for all {c} classes or no classes but got weight tensor of shape: [{w}]", "options");
            }

            return new IndexTargetLayout(rank == 1 ? 1 : checked((int)x[0]), c, 1);
        }

        if (rank == 4)
        {
            if (t.Length != 3)
            {
                throw new ArgumentException($"only batches of spatial targets supported (3D tensors) but got targets of dimension: {t.Length}", nameof(target));
            }

            CheckWeightAllOrNone(weightLength, c);
            if (t[1] != x[2] || t[2] != x[3])
            {
                throw new ArgumentException($"size mismatch (got input: {TensorArgs.Format(x)} , target: {TensorArgs.Format(t)}", nameof(target));
            }
        }
        else
        {
            bool match = t.Length == rank - 1 && t[0] == x[0] && x[2..].SequenceEqual(t[1..]);
            if (!match)
            {
                nint[] expected = [x[0], .. x[2..]];
                throw new ArgumentException($"Expected target size {TensorArgs.Format(expected)}, got {TensorArgs.Format(t)}", nameof(target));
            }

            CheckWeightAllOrNone(weightLength, c);
        }

        long s = 1;
        for (int d = 2; d < rank; d++)
        {
            s *= x[d];
        }

        return new IndexTargetLayout(checked((int)x[0]), c, checked((int)s));
    }

    private static void CheckWeightAllOrNone(int? weightLength, int c)
    {
        if (weightLength is int w && w != c)
        {
            throw new ArgumentException("weight tensor should be defined either for all or no classes", "options");
        }
    }

    /// <summary>
    /// Σ w[y] and the count over targets that are not ignored; throws for the first target (in scan order)
    /// outside [0, C), as PyTorch does.
    /// </summary>
    public static (double TotalWeight, long Count) SumTargetWeights<T>(ReadOnlySpan<int> targets, int c, int ignoreIndex, ReadOnlySpan<T> weight)
        where T : unmanaged, System.Numerics.INumberBase<T>
    {
        // Large target sets are checked and summed in parallel blocks (Kernels/TargetWeights).
        if (weight.IsEmpty && Vector256.IsHardwareAccelerated && targets.Length >= 64)
        {
            return TargetWeights.Sum(targets, c, ignoreIndex, default);
        }

        if (typeof(T) == typeof(float) && !weight.IsEmpty && System.Runtime.Intrinsics.X86.Avx2.IsSupported && targets.Length >= 64)
        {
            return TargetWeights.Sum(targets, c, ignoreIndex, System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(weight));
        }

        double total = 0;
        long count = 0;
        foreach (int y in targets)
        {
            if (!Counts(y, c, ignoreIndex))
            {
                continue;
            }

            total += weight.IsEmpty ? 1.0 : double.CreateTruncating(weight[y]);
            count++;
        }

        return (total, count);
    }

    /// <summary>Whether a target counts (false where it is <paramref name="ignoreIndex"/>); an out-of-range one throws.</summary>
    private static bool Counts(int y, int c, int ignoreIndex)
    {
        if (y == ignoreIndex)
        {
            return false;
        }

        if ((uint)y >= (uint)c)
        {
            throw TargetCount.OutOfBounds(y);
        }

        return true;
    }
}
