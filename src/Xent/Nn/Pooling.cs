using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// The computation shared by the max and average pooling layers, over NCHW samples (1-D layers have height 1), with
/// PyTorch's rules: stride defaults to the kernel, padding is at most half the kernel, max pooling pads with −∞ and
/// keeps the first largest value (a NaN wins), average pooling divides by the whole window, padding included
/// (<c>count_include_pad=True</c>), and the output size rounds down (<c>ceil_mode=False</c>).
/// </summary>
internal sealed class Pooling(ConvGeometry geometry, bool max)
{
    private int[] _argmax = [];

    public ConvGeometry Geometry { get; } = geometry;

    public bool Max { get; } = max;

    public int InputFeatures => Geometry.Channels * Geometry.Plane;

    public int OutputFeatures => Geometry.Channels * Geometry.OutPlane;

    /// <summary>Checks a pooling window and returns its geometry.</summary>
    public static ConvGeometry Check(int channels, int height, int width, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding, string layer)
    {
        if (channels < 1 || height < 1 || width < 1 || kernel.Height < 1 || kernel.Width < 1 || stride.Height < 1 || stride.Width < 1 || padding.Height < 0 || padding.Width < 0)
        {
            throw new ArgumentException($"{layer}: sizes, kernel and stride must be at least 1 and padding at least 0.");
        }

        if (padding.Height > kernel.Height / 2 || padding.Width > kernel.Width / 2)
        {
            throw new ArgumentException($"{layer}: padding {padding.Height}×{padding.Width} is more than half the {kernel.Height}×{kernel.Width} kernel (PyTorch allows at most half).");
        }

        var g = new ConvGeometry(channels, height, width, kernel.Height, kernel.Width, stride.Height, stride.Width, padding.Height, padding.Width);
        if (g.OutHeight < 1 || g.OutWidth < 1)
        {
            throw new ArgumentException($"{layer}: a {kernel.Height}×{kernel.Width} window (padding {padding.Height}×{padding.Width}) does not fit an input of {height}×{width}.");
        }

        if ((long)channels * height * width > int.MaxValue)
        {
            throw new ArgumentException($"{layer}: the input is larger than an array holds.");
        }

        return g;
    }

    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        ConvGeometry g = Geometry;
        int planes = batch * g.Channels, inPlane = g.Plane, outPlane = g.OutPlane;
        if (Max && _argmax.Length < planes * outPlane)
        {
            _argmax = new int[planes * outPlane];
        }

        float scale = 1f / (g.KernelHeight * g.KernelWidth);
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<float> src = input.Slice(p * inPlane, inPlane);
            Span<float> dst = output.Slice(p * outPlane, outPlane);
            for (int y = 0; y < g.OutHeight; y++)
            {
                (int h0, int h1) = Window(y, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
                for (int x = 0; x < g.OutWidth; x++)
                {
                    (int w0, int w1) = Window(x, g.StrideWidth, g.PadWidth, g.KernelWidth, g.Width);
                    int o = (y * g.OutWidth) + x;
                    if (Max)
                    {
                        float best = float.NegativeInfinity;
                        int at = (h0 * g.Width) + w0;
                        for (int ih = h0; ih < h1; ih++)
                        {
                            for (int iw = w0; iw < w1; iw++)
                            {
                                float v = src[(ih * g.Width) + iw];
                                if (v > best || float.IsNaN(v))
                                {
                                    best = v;
                                    at = (ih * g.Width) + iw;
                                }
                            }
                        }

                        dst[o] = best;
                        _argmax[(p * outPlane) + o] = at;
                    }
                    else
                    {
                        float sum = 0;
                        for (int ih = h0; ih < h1; ih++)
                        {
                            for (int iw = w0; iw < w1; iw++)
                            {
                                sum += src[(ih * g.Width) + iw];
                            }
                        }

                        dst[o] = sum * scale;
                    }
                }
            }
        }
    }

    public void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty)
        {
            return;
        }

        ConvGeometry g = Geometry;
        int planes = batch * g.Channels, inPlane = g.Plane, outPlane = g.OutPlane;
        inputGradient.Clear();
        float scale = 1f / (g.KernelHeight * g.KernelWidth);
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<float> dy = outputGradient.Slice(p * outPlane, outPlane);
            Span<float> dx = inputGradient.Slice(p * inPlane, inPlane);
            if (Max)
            {
                ReadOnlySpan<int> at = _argmax.AsSpan(p * outPlane, outPlane);
                for (int o = 0; o < outPlane; o++)
                {
                    dx[at[o]] += dy[o];
                }

                continue;
            }

            for (int y = 0; y < g.OutHeight; y++)
            {
                (int h0, int h1) = Window(y, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
                for (int x = 0; x < g.OutWidth; x++)
                {
                    (int w0, int w1) = Window(x, g.StrideWidth, g.PadWidth, g.KernelWidth, g.Width);
                    float v = dy[(y * g.OutWidth) + x] * scale;
                    for (int ih = h0; ih < h1; ih++)
                    {
                        for (int iw = w0; iw < w1; iw++)
                        {
                            dx[(ih * g.Width) + iw] += v;
                        }
                    }
                }
            }
        }
    }

    /// <summary>The input range [start, end) of output position <paramref name="o"/>, clipped to the input.</summary>
    private static (int Start, int End) Window(int o, int stride, int pad, int kernel, int size)
    {
        int start = (o * stride) - pad;
        return (Math.Max(start, 0), Math.Min(start + kernel, size));
    }
}
