using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// The computation shared by the max and average pooling layers, over NCHW samples (1-D layers have height 1), with
/// PyTorch's rules: stride defaults to the kernel, padding is at most half the kernel, max pooling pads with −∞ and
/// keeps the first largest value (a NaN wins), average pooling divides by the whole window, padding included
/// (<c>count_include_pad=True</c>), and the output size rounds down (<c>ceil_mode=False</c>).
/// </summary>
internal sealed class Pooling
{
    private readonly PlaneWork _forward;
    private readonly PlaneWork _backward;
    private int[] _argmax = [];

    public Pooling(ConvGeometry geometry, bool max)
    {
        Geometry = geometry;
        Max = max;
        _forward = new PlaneWork(this, backward: false);
        _backward = new PlaneWork(this, backward: true);
    }

    public ConvGeometry Geometry { get; }

    public bool Max { get; }

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

    public unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        int planes = batch * Geometry.Channels;
        Reserve(batch);
        fixed (float* x = input)
        fixed (float* y = output)
        {
            RunPlanes(_forward, x, y, planes);
        }
    }

    public unsafe void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty)
        {
            return;
        }

        fixed (float* dy = outputGradient)
        fixed (float* dx = inputGradient)
        {
            RunPlanes(_backward, dx, dy, batch * Geometry.Channels);
        }
    }

    /// <summary>Grows the max positions to a batch (before a parallel region: never inside one).</summary>
    public void Reserve(int batch)
    {
        long positions = (long)batch * Geometry.Channels * Geometry.OutPlane;
        if (Max && _argmax.Length < positions)
        {
            _argmax = new int[positions];
        }
    }

    /// <summary>
    /// Plane <paramref name="plane"/> (sample · channels + channel) forward, for a convolution that pools its own
    /// output (<see cref="Convolution"/>): the same arithmetic, and the same max positions, as <see cref="Forward"/>.
    /// </summary>
    public void ForwardPlane(ReadOnlySpan<float> src, Span<float> dst, int plane)
        => ForwardPlane(src, dst, Max ? _argmax.AsSpan(plane * Geometry.OutPlane, Geometry.OutPlane) : default);

    /// <summary>The max positions of plane <paramref name="plane"/> (from the last forward), in the plane's input.</summary>
    public ReadOnlySpan<int> ArgmaxOf(int plane) => _argmax.AsSpan(plane * Geometry.OutPlane, Geometry.OutPlane);

    /// <summary>Runs the planes in chunks of a size fixed by the geometry; every output value is computed by one thread in a fixed order, so the result does not depend on the thread count.</summary>
    private unsafe void RunPlanes(PlaneWork work, float* input, float* output, int planes)
    {
        int per = Math.Max(1, Parallelism.ChunkElements / Geometry.Plane);
        work.Input = input;
        work.Output = output;
        work.Planes = planes;
        work.PerChunk = per;
        long elements = (long)planes * Geometry.Plane;
        WorkerPool.For((planes + per - 1) / per, elements >= Parallelism.ParallelThreshold ? Parallelism.MaxDegree : 1, work);
        work.Input = null;
        work.Output = null;
    }

    /// <summary>One plane forward: <paramref name="src"/> is the input plane, <paramref name="dst"/> the output plane, <paramref name="argmax"/> the max positions.</summary>
    private void ForwardPlane(ReadOnlySpan<float> src, Span<float> dst, Span<int> argmax)
    {
        ConvGeometry g = Geometry;
        if (Max && g.KernelHeight == 2 && g.KernelWidth == 2 && g.StrideHeight == 2 && g.StrideWidth == 2 && g.PadHeight == 0 && g.PadWidth == 0)
        {
            MaxPool2x2(src, dst, argmax, g.Width, g.OutHeight, g.OutWidth);
            return;
        }

        float scale = 1f / (g.KernelHeight * g.KernelWidth);
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
                    argmax[o] = at;
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

    /// <summary>The 2×2, stride-2, unpadded max pool: the general loop's result (first largest value; a NaN replaces it) without its window arithmetic.</summary>
    private static void MaxPool2x2(ReadOnlySpan<float> src, Span<float> dst, Span<int> argmax, int width, int outHeight, int outWidth)
    {
        for (int y = 0; y < outHeight; y++)
        {
            int row = 2 * y * width;
            ReadOnlySpan<float> r0 = src.Slice(row, 2 * outWidth), r1 = src.Slice(row + width, 2 * outWidth);
            Span<float> d = dst.Slice(y * outWidth, outWidth);
            Span<int> a = argmax.Slice(y * outWidth, outWidth);
            int x = 0;
            if (Vector512.IsHardwareAccelerated && d.Length >= 8)
            {
                // Eight windows at a time: each row's 16 values split into the windows' left (even) and right (odd)
                // columns, then the scalar loop's comparisons lane by lane, in its order. The last group overlaps
                // the one before it when the width is not a multiple of 8 (it writes the same values again).
                Vector512<int> split = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
                Vector256<int> lanes = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
                for (int start = 0; ; start += 8)
                {
                    x = Math.Min(start, d.Length - 8);
                    Vector512<float> top = Vector512.Shuffle(Vector512.Create(r0.Slice(2 * x, 16)), split);
                    Vector512<float> bottom = Vector512.Shuffle(Vector512.Create(r1.Slice(2 * x, 16)), split);
                    Vector256<int> at0 = lanes + Vector256.Create(row + (2 * x));
                    Vector256<float> best = top.GetLower();
                    Vector256<int> at = at0;
                    Pick(ref best, ref at, top.GetUpper(), at0 + Vector256<int>.One);
                    Pick(ref best, ref at, bottom.GetLower(), at0 + Vector256.Create(width));
                    Pick(ref best, ref at, bottom.GetUpper(), at0 + Vector256.Create(width + 1));
                    best.CopyTo(d.Slice(x, 8));
                    at.CopyTo(a.Slice(x, 8));
                    if (x == d.Length - 8)
                    {
                        break;
                    }
                }

                x = d.Length;
            }
            else if (Vector256.IsHardwareAccelerated && d.Length >= 4)
            {
                // Four windows at a time (narrow planes, or no 512-bit vectors), the same way.
                Vector256<int> split = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
                Vector128<int> lanes = Vector128.Create(0, 2, 4, 6);
                for (int start = 0; ; start += 4)
                {
                    x = Math.Min(start, d.Length - 4);
                    Vector256<float> top = Vector256.Shuffle(Vector256.Create(r0.Slice(2 * x, 8)), split);
                    Vector256<float> bottom = Vector256.Shuffle(Vector256.Create(r1.Slice(2 * x, 8)), split);
                    Vector128<int> at0 = lanes + Vector128.Create(row + (2 * x));
                    Vector128<float> best = top.GetLower();
                    Vector128<int> at = at0;
                    Pick(ref best, ref at, top.GetUpper(), at0 + Vector128<int>.One);
                    Pick(ref best, ref at, bottom.GetLower(), at0 + Vector128.Create(width));
                    Pick(ref best, ref at, bottom.GetUpper(), at0 + Vector128.Create(width + 1));
                    best.CopyTo(d.Slice(x, 4));
                    at.CopyTo(a.Slice(x, 4));
                    if (x == d.Length - 4)
                    {
                        break;
                    }
                }

                x = d.Length;
            }

            for (; x < d.Length; x++)
            {
                int i = 2 * x;
                float best = r0[i];
                int at = row + i;
                float v = r0[i + 1];
                if (v > best || float.IsNaN(v))
                {
                    best = v;
                    at = row + i + 1;
                }

                v = r1[i];
                if (v > best || float.IsNaN(v))
                {
                    best = v;
                    at = row + width + i;
                }

                v = r1[i + 1];
                if (v > best || float.IsNaN(v))
                {
                    best = v;
                    at = row + width + i + 1;
                }

                d[x] = best;
                a[x] = at;
            }
        }
    }

    /// <summary>Where <paramref name="v"/> is larger than <paramref name="best"/> or NaN, it replaces it (and its position <paramref name="at"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pick(ref Vector256<float> best, ref Vector256<int> at, Vector256<float> v, Vector256<int> position)
    {
        Vector256<float> take = Vector256.GreaterThan(v, best) | ~Vector256.Equals(v, v);
        best = Vector256.ConditionalSelect(take, v, best);
        at = Vector256.ConditionalSelect(take.AsInt32(), position, at);
    }

    /// <summary>As the 256-bit <see cref="Pick(ref Vector256{float}, ref Vector256{int}, Vector256{float}, Vector256{int})"/>, four lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pick(ref Vector128<float> best, ref Vector128<int> at, Vector128<float> v, Vector128<int> position)
    {
        Vector128<float> take = Vector128.GreaterThan(v, best) | ~Vector128.Equals(v, v);
        best = Vector128.ConditionalSelect(take, v, best);
        at = Vector128.ConditionalSelect(take.AsInt32(), position, at);
    }

    /// <summary>One plane backward: <paramref name="dx"/> is overwritten with the gradient of the input plane.</summary>
    private void BackwardPlane(ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<int> at)
    {
        ConvGeometry g = Geometry;
        dx.Clear();
        if (Max)
        {
            for (int o = 0; o < dy.Length; o++)
            {
                dx[at[o]] += dy[o];
            }

            return;
        }

        float scale = 1f / (g.KernelHeight * g.KernelWidth);
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

    /// <summary>A chunk of planes, forward (Input: x, Output: y) or backward (Input: dx, Output: dy).</summary>
    private sealed unsafe class PlaneWork(Pooling owner, bool backward) : IParallelWork
    {
        public float* Input;
        public float* Output;
        public int Planes;
        public int PerChunk;

        public void Run(int index)
        {
            int inPlane = owner.Geometry.Plane, outPlane = owner.Geometry.OutPlane;
            int end = Math.Min(Planes, (index + 1) * PerChunk);
            for (int p = index * PerChunk; p < end; p++)
            {
                var x = new Span<float>(Input + ((long)p * inPlane), inPlane);
                var y = new Span<float>(Output + ((long)p * outPlane), outPlane);
                Span<int> at = owner.Max ? owner._argmax.AsSpan(p * outPlane, outPlane) : default;
                if (backward)
                {
                    owner.BackwardPlane(y, x, at);
                }
                else
                {
                    owner.ForwardPlane(x, y, at);
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
