using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// A matrix op(B) (k×n) packed once for <see cref="Sgemm.MultiplyPacked"/>: panels of <see cref="PanelWidth"/>
/// columns (two SIMD vectors, or one when n fits in one), each holding all k rows contiguously (zero-padded past n),
/// 64-byte aligned. Inference multiplies the same
/// weights by every batch; packing them once saves the per-call packing of <see cref="Sgemm.Multiply"/>.
/// </summary>
/// <remarks>The packed copy does not follow later changes to the source matrix: pack again after changing it.</remarks>
public sealed class PackedMatrix
{
    private readonly float[] _data;
    private readonly int _offset;

    private PackedMatrix(int k, int n, int panelWidth)
    {
        K = k;
        N = n;
        PanelWidth = panelWidth;
        Panels = (n + panelWidth - 1) / panelWidth;
        long length = (long)Panels * k * panelWidth;
        // Pinned (never moves), so the 64-byte aligned start found once stays aligned.
        _data = GC.AllocateArray<float>(checked((int)length + 16), pinned: true);
        unsafe
        {
            nint address = (nint)Unsafe.AsPointer(ref _data[0]);
            _offset = (int)((64 - (address & 63)) & 63) / sizeof(float);
        }
    }

    /// <summary>Rows of op(B): the inner dimension of the product.</summary>
    public int K { get; }

    /// <summary>Columns of op(B): the columns of the product.</summary>
    public int N { get; }

    /// <summary>Columns per panel: two vectors (32 with Vector512, 16 otherwise), or one vector when n fits in one.</summary>
    internal int PanelWidth { get; }

    /// <summary>The number of panels.</summary>
    internal int Panels { get; }

    /// <summary>Packs op(B).</summary>
    /// <param name="transB">Whether B is transposed: op(B) = B (k×n, row stride <paramref name="ldb"/>) or Bᵀ (B stored n×k, as a linear layer's weight [out, in]).</param>
    /// <param name="k">Rows of op(B).</param>
    /// <param name="n">Columns of op(B).</param>
    /// <param name="b">B's elements.</param>
    /// <param name="ldb">B's row stride.</param>
    /// <returns>The packed matrix.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is less than 1 or the stride is too small.</exception>
    /// <exception cref="ArgumentException">The span is too short for the matrix.</exception>
    public static PackedMatrix Pack(Transpose transB, int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        (int rows, int cols) = transB == Transpose.No ? (k, n) : (n, k);
        Sgemm.CheckOperand(b, rows, cols, ldb, nameof(b), nameof(ldb));
        var packed = new PackedMatrix(k, n, Sgemm.PanelWidthFor(n));
        Span<float> data = packed.Data;
        int nr = packed.PanelWidth;
        for (int panel = 0; panel < packed.Panels; panel++)
        {
            Span<float> dst = data.Slice(panel * k * nr, k * nr);
            for (int j = 0; j < nr; j++)
            {
                int col = (panel * nr) + j;
                for (int p = 0; p < k; p++)
                {
                    dst[(p * nr) + j] = col >= n ? 0f : transB == Transpose.No ? b[(p * ldb) + col] : b[(col * ldb) + p];
                }
            }
        }

        return packed;
    }

    /// <summary>The packed elements: panel after panel, each k rows of <see cref="PanelWidth"/> columns.</summary>
    internal Span<float> Data => _data.AsSpan(_offset, Panels * K * PanelWidth);
}
