using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// im2col and its adjoint col2im for NCHW convolutions. The column matrix has one row per (channel, kernel row,
/// kernel column), in the order of a PyTorch weight [out, C, kh, kw] flattened, and one column per output position;
/// a sample's columns sit at an offset in a row of stride <c>ldc</c>, so a batch shares one matrix.
/// </summary>
internal static class Im2Col
{
    /// <summary>Writes one sample's columns: <c>col[r·ldc + p]</c> for row r and output position p (zero where the window covers padding).</summary>
    /// <param name="image">C × H × W values.</param>
    /// <param name="g">The geometry.</param>
    /// <param name="col">The sample's first column.</param>
    /// <param name="ldc">The row stride of the column matrix.</param>
    public static void Expand(ReadOnlySpan<float> image, in ConvGeometry g, Span<float> col, int ldc)
    {
        int oh = g.OutHeight, ow = g.OutWidth, w = g.Width;
        if (Unpadded(g) && image.Length >= g.Channels * g.Plane && col.Length >= ((g.Rows - 1) * ldc) + (oh * ow))
        {
            unsafe
            {
                fixed (float* x = image)
                fixed (float* c = col)
                {
                    ExpandUnpadded(x, g, c, ldc);
                }
            }

            return;
        }

        for (int c = 0; c < g.Channels; c++)
        {
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                for (int kj = 0; kj < g.KernelWidth; kj++)
                {
                    int r = (((c * g.KernelHeight) + ki) * g.KernelWidth) + kj;
                    Span<float> row = col.Slice(r * ldc, oh * ow);
                    int offset = (kj * g.DilationWidth) - g.PadWidth;
                    (int x0, int x1) = Valid(offset, g.StrideWidth, ow, w);
                    for (int y = 0; y < oh; y++)
                    {
                        Span<float> dst = row.Slice(y * ow, ow);
                        int ih = (y * g.StrideHeight) - g.PadHeight + (ki * g.DilationHeight);
                        if ((uint)ih >= (uint)g.Height || x1 <= x0)
                        {
                            dst.Clear();
                            continue;
                        }

                        ReadOnlySpan<float> src = image.Slice(((c * g.Height) + ih) * w, w);
                        dst[..x0].Clear();
                        dst[x1..].Clear();
                        if (g.StrideWidth == 1)
                        {
                            Copy(src.Slice(x0 + offset, x1 - x0), dst[x0..x1]);
                        }
                        else
                        {
                            for (int x = x0; x < x1; x++)
                            {
                                dst[x] = src[(x * g.StrideWidth) + offset];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Adds one sample's columns back onto the image (the adjoint of <see cref="Expand"/>); positions are added in a fixed order.</summary>
    /// <param name="col">The sample's first column.</param>
    /// <param name="ldc">The row stride of the column matrix.</param>
    /// <param name="g">The geometry.</param>
    /// <param name="image">C × H × W values, added to.</param>
    public static void Accumulate(ReadOnlySpan<float> col, int ldc, in ConvGeometry g, Span<float> image)
    {
        int oh = g.OutHeight, ow = g.OutWidth, w = g.Width;
        if (Unpadded(g) && image.Length >= g.Channels * g.Plane && col.Length >= ((g.Rows - 1) * ldc) + (oh * ow))
        {
            unsafe
            {
                fixed (float* c = col)
                fixed (float* x = image)
                {
                    AccumulateUnpadded(c, ldc, g, x);
                }
            }

            return;
        }

        for (int c = 0; c < g.Channels; c++)
        {
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                for (int kj = 0; kj < g.KernelWidth; kj++)
                {
                    int r = (((c * g.KernelHeight) + ki) * g.KernelWidth) + kj;
                    ReadOnlySpan<float> row = col.Slice(r * ldc, oh * ow);
                    int offset = (kj * g.DilationWidth) - g.PadWidth;
                    (int x0, int x1) = Valid(offset, g.StrideWidth, ow, w);
                    if (x1 <= x0)
                    {
                        continue;
                    }

                    for (int y = 0; y < oh; y++)
                    {
                        int ih = (y * g.StrideHeight) - g.PadHeight + (ki * g.DilationHeight);
                        if ((uint)ih >= (uint)g.Height)
                        {
                            continue;
                        }

                        ReadOnlySpan<float> src = row.Slice(y * ow, ow);
                        Span<float> dst = image.Slice(((c * g.Height) + ih) * w, w);
                        if (g.StrideWidth == 1)
                        {
                            AddTo(src[x0..x1], dst.Slice(x0 + offset, x1 - x0));
                        }
                        else
                        {
                            for (int x = x0; x < x1; x++)
                            {
                                dst[(x * g.StrideWidth) + offset] += src[x];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Unit width stride and no padding: every window lies inside the image, so each row of columns is whole rows of the image, copied without bounds arithmetic.</summary>
    private static bool Unpadded(in ConvGeometry g) => g.PadHeight == 0 && g.PadWidth == 0 && g.StrideWidth == 1;

    private static unsafe void ExpandUnpadded(float* image, in ConvGeometry g, float* col, int ldc)
    {
        int oh = g.OutHeight, ow = g.OutWidth, w = g.Width, step = g.StrideHeight * w;
        for (int c = 0, r = 0; c < g.Channels; c++)
        {
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                for (int kj = 0; kj < g.KernelWidth; kj++, r++)
                {
                    float* src = image + ((long)c * g.Plane) + (ki * g.DilationHeight * w) + (kj * g.DilationWidth);
                    float* dst = col + ((long)r * ldc);
                    for (int y = 0; y < oh; y++, src += step, dst += ow)
                    {
                        CopyRow(src, dst, ow);
                    }
                }
            }
        }
    }

    private static unsafe void AccumulateUnpadded(float* col, int ldc, in ConvGeometry g, float* image)
    {
        int oh = g.OutHeight, ow = g.OutWidth, w = g.Width, step = g.StrideHeight * w;
        for (int c = 0, r = 0; c < g.Channels; c++)
        {
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                for (int kj = 0; kj < g.KernelWidth; kj++, r++)
                {
                    float* dst = image + ((long)c * g.Plane) + (ki * g.DilationHeight * w) + (kj * g.DilationWidth);
                    float* src = col + ((long)r * ldc);
                    for (int y = 0; y < oh; y++, src += ow, dst += step)
                    {
                        AddRow(src, dst, ow);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void CopyRow(float* src, float* dst, int n)
    {
        if (n >= 8 && Vector256.IsHardwareAccelerated)
        {
            int i = 0;
            for (; i <= n - 8; i += 8)
            {
                Vector256.Store(Vector256.Load(src + i), dst + i);
            }

            if (i < n)
            {
                // The last vector overlaps the one before and writes the same values again.
                Vector256.Store(Vector256.Load(src + n - 8), dst + n - 8);
            }

            return;
        }

        for (int i = 0; i < n; i++)
        {
            dst[i] = src[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRow(float* src, float* dst, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
            }
        }

        for (; i < n; i++)
        {
            dst[i] += src[i];
        }
    }

    /// <summary>
    /// Copies a short row (an output row of a small feature map is often 5 to 30 values, where a memmove call costs
    /// more than the copy): whole vectors, the last one overlapping the one before (it writes the same values again).
    /// </summary>
    private static void Copy(ReadOnlySpan<float> source, Span<float> destination)
    {
        int n = source.Length;
        if (n >= 8 && Vector256.IsHardwareAccelerated)
        {
            ref float s = ref MemoryMarshal.GetReference(source);
            ref float d = ref MemoryMarshal.GetReference(destination[..n]);
            int i = 0;
            for (; i <= n - 8; i += 8)
            {
                Vector256.LoadUnsafe(ref s, (nuint)i).StoreUnsafe(ref d, (nuint)i);
            }

            if (i < n)
            {
                Vector256.LoadUnsafe(ref s, (nuint)(n - 8)).StoreUnsafe(ref d, (nuint)(n - 8));
            }

            return;
        }

        source.CopyTo(destination);
    }

    /// <summary>destination[i] += source[i], one addition per element (so the sums are the same as a scalar loop's), without a library call's overhead on short rows.</summary>
    private static void AddTo(ReadOnlySpan<float> source, Span<float> destination)
    {
        int n = source.Length;
        destination = destination[..n];
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float s = ref MemoryMarshal.GetReference(source);
            ref float d = ref MemoryMarshal.GetReference(destination);
            for (; i <= n - 8; i += 8)
            {
                (Vector256.LoadUnsafe(ref d, (nuint)i) + Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            destination[i] += source[i];
        }
    }

    /// <summary>The output columns x in [x0, x1) whose input column x·stride + offset lies in [0, width).</summary>
    private static (int X0, int X1) Valid(int offset, int stride, int outWidth, int width)
    {
        int x0 = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int x1 = width - offset <= 0 ? 0 : Math.Min(outWidth, ((width - offset - 1) / stride) + 1);
        return (Math.Min(x0, outWidth), x1);
    }
}
