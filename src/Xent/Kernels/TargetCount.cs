using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// Checks class-index targets against [0, C) and counts the ignored ones: for the mean's denominator, and in the
/// kernels' chunks (<see cref="CrossEntropyKernel.RunCounting{T}"/>) while a chunk's targets are in cache.
/// </summary>
internal static class TargetCount
{
    /// <summary>
    /// The number of targets equal to <paramref name="ignoreIndex"/>, 8 at a time; or −1 with <paramref name="bad"/>
    /// the position of the first target (in scan order) outside [0, C) that is not ignored.
    /// </summary>
    /// <param name="targets">The targets.</param>
    /// <param name="c">C.</param>
    /// <param name="ignoreIndex">The ignored target value.</param>
    /// <param name="bad">The first offender's position, or −1 when there is none.</param>
    /// <returns>The ignored count, or −1.</returns>
    public static long Ignored(ReadOnlySpan<int> targets, int c, int ignoreIndex, out int bad)
    {
        // 256-bit vectors on every host: the pass reads 4 bytes a row, and a scalar loop with a double sum cost 4
        // cycles a target (as much as the two-class kernel itself).
        var ignore = Vector256.Create(ignoreIndex);
        var classes = Vector256.Create((uint)c);
        long ignored = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= targets.Length - 8; i += 8)
            {
                Vector256<int> y = Vector256.Create(targets.Slice(i, 8));
                Vector256<int> isIgnored = Vector256.Equals(y, ignore);
                Vector256<int> outside = Vector256.AndNot(Vector256.GreaterThanOrEqual(y.AsUInt32(), classes).AsInt32(), isIgnored);
                if (outside != Vector256<int>.Zero)
                {
                    break; // the scalar loop below finds the first offender
                }

                ignored += System.Numerics.BitOperations.PopCount(isIgnored.ExtractMostSignificantBits());
            }
        }

        for (; i < targets.Length; i++)
        {
            int y = targets[i];
            if (y == ignoreIndex)
            {
                ignored++;
            }
            else if ((uint)y >= (uint)c)
            {
                bad = i;
                return -1;
            }
        }

        bad = -1;
        return ignored;
    }

    /// <summary><see cref="Ignored(ReadOnlySpan{int}, int, int, out int)"/>, throwing for the first offender.</summary>
    /// <param name="targets">The targets.</param>
    /// <param name="c">C.</param>
    /// <param name="ignoreIndex">The ignored target value.</param>
    /// <returns>The ignored count.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, C) and is not the ignore index.</exception>
    public static long Ignored(ReadOnlySpan<int> targets, int c, int ignoreIndex)
    {
        long ignored = Ignored(targets, c, ignoreIndex, out int bad);
        return bad < 0 ? ignored : throw OutOfBounds(targets[bad]);
    }

    /// <summary>PyTorch's error for a target outside [0, C).</summary>
    /// <param name="target">The target.</param>
    /// <returns>The exception to throw.</returns>
    public static ArgumentOutOfRangeException OutOfBounds(int target) => new("target", $"Target {target} is out of bounds.");
}
