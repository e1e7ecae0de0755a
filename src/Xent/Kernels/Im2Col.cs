using System.Numerics.Tensors;

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
                            src.Slice(x0 + offset, x1 - x0).CopyTo(dst[x0..x1]);
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
                            Span<float> target = dst.Slice(x0 + offset, x1 - x0);
                            TensorPrimitives.Add(target, src[x0..x1], target);
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

    /// <summary>The output columns x in [x0, x1) whose input column x·stride + offset lies in [0, width).</summary>
    private static (int X0, int X1) Valid(int offset, int stride, int outWidth, int width)
    {
        int x0 = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int x1 = width - offset <= 0 ? 0 : Math.Min(outWidth, ((width - offset - 1) / stride) + 1);
        return (Math.Min(x0, outWidth), x1);
    }
}
