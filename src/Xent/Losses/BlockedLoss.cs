using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Xent.Kernels;

namespace Xent.Losses;

/// <summary>
/// The fast path of the losses built on cross-entropy: blocks of whole batch rows, each small enough to stay in
/// cache, go through the fused cross-entropy kernel and are finished while still in cache. Two hooks of
/// <see cref="ClassificationLoss"/> say what a loss adds:
/// <list type="bullet">
/// <item><see cref="ClassificationLoss.LogitOffset"/>: a per-class offset added to the logits first (logit adjustment,
/// balanced softmax). The shifted block is written to a cache-resident scratch, never to an N×C buffer.</item>
/// <item><see cref="ClassificationLoss.SoftmaxForm(ReadOnlySpan{double}, Span{double}, Span{double})"/>: a loss whose
/// value depends on log p_y only and whose gradient is g·(softmax − e_y) (focal, GCE, SCE, poly1). The kernel gives
/// −log p_y and softmax − e_y; ℓ and g are computed for a tile of positions at once (vectorised, in double), and the
/// block's gradient is scaled by κ·w_y·g in place.</item>
/// </list>
/// Blocks depend only on the shape, and their sums are combined in block order, so results are bit-identical for
/// any thread count. Nothing is allocated once the pools are warm.
/// </summary>
internal static unsafe class BlockedLoss
{
    /// <summary>Elements per block (64 KiB of floats): the block is still in L2 when it is finished.</summary>
    private const int BlockElements = 1 << 14;

    /// <summary>Positions whose ℓ and g are computed together.</summary>
    private const int Tile = 256;

    /// <summary>Whether <paramref name="loss"/> can take this path for this call.</summary>
    public static bool Applies(ClassificationLoss loss, IndexTargetLayout layout, ClassificationLossOptions options)
    {
        if (options.ZLoss != 0 || layout.C == 0 || (long)layout.C * layout.S > int.MaxValue / 2)
        {
            return false;
        }

        int offset = loss.LogitOffset.Length, margin = loss.TargetMargin.Length;
        bool scaled = margin != 0 || loss.OutputScale != 1;
        return (offset == 0 || offset == layout.C) && (margin == 0 || margin == layout.C)
            && (loss.HasSoftmaxForm ? !scaled : offset != 0 || scaled);
    }

    /// <summary>Runs the loss over all positions; the caller has validated shapes, targets and destinations.</summary>
    public static LossResult Run<T>(
        ClassificationLoss loss, ReadOnlySpan<T> x, ReadOnlySpan<int> y, IndexTargetLayout layout, ClassificationLossOptions options,
        ReadOnlySpan<double> weights, Span<T> losses, Span<T> gradient, double kappa, double denominator, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = layout.C, s = layout.S, n = layout.N;
        if (n == 0 || s == 0)
        {
            losses.Clear();
            return CrossEntropy.Result(options.Reduction, 0, denominator, count, layout.Positions);
        }

        int rowElements = c * s;
        int rowsPerBlock = Math.Max(1, BlockElements / rowElements);
        int blocks = (n + rowsPerBlock - 1) / rowsPerBlock;
        T[] weightT = ArrayPool<T>.Shared.Rent(c);
        double[] partials = ArrayPool<double>.Shared.Rent(blocks);
        double[] offsets = ArrayPool<double>.Shared.Rent(c);
        double[] margins = ArrayPool<double>.Shared.Rent(c);
        float[] scaledMargins = ArrayPool<float>.Shared.Rent(c);
        ReadOnlySpan<double> offset = loss.LogitOffset, margin = loss.TargetMargin;
        double scale = loss.OutputScale;
        bool inDouble = scale != 1 || !margin.IsEmpty;
        // 2-D input: the offsets repeated for a whole block's rows, so that shifting a block is one vector add.
        int patternLength = offset.IsEmpty || s != 1 || inDouble ? 0 : Math.Min(rowsPerBlock, n) * c;
        T[] pattern = ArrayPool<T>.Shared.Rent(patternLength);
        try
        {
            double weightSum = 0;
            for (int k = 0; k < c && !weights.IsEmpty; k++)
            {
                weightT[k] = T.CreateTruncating(weights[k]);
                weightSum += weights[k];
            }

            offset.CopyTo(offsets);
            margin.CopyTo(margins);
            for (int k = 0; k < margin.Length; k++)
            {
                scaledMargins[k] = (float)(scale * margin[k]);
            }
            for (int i = 0; i < patternLength; i++)
            {
                pattern[i] = T.CreateTruncating(offset[i % c]);
            }

            fixed (T* px = x)
            fixed (int* py = y)
            fixed (T* pl = losses)
            fixed (T* pg = gradient)
            fixed (T* pw = weightT)
            fixed (double* pd = weights)
            fixed (double* po = offsets)
            fixed (T* pp = pattern)
            fixed (double* pm = margins)
            fixed (float* psm = scaledMargins)
            {
                var job = new Job<T>
                {
                    Loss = loss, X = px, Y = py, N = n, C = c, S = s, RowsPerBlock = rowsPerBlock,
                    Losses = losses.IsEmpty ? null : pl, Gradient = gradient.IsEmpty ? null : pg,
                    Weight = weights.IsEmpty ? null : pw, WeightDouble = weights.IsEmpty ? null : pd, WeightSum = weights.IsEmpty ? c : weightSum,
                    Offset = offset.IsEmpty ? null : po, OffsetPattern = patternLength == 0 ? null : pp, OffsetValues = patternLength == 0 ? null : pp,
                    Margin = margin.IsEmpty ? null : pm, ScaledMargin = margin.IsEmpty ? null : psm, Scale = scale, InDouble = inDouble, IgnoreIndex = options.IgnoreIndex, Kappa = kappa,
                };
                long elements = (long)n * rowElements;
                if (blocks == 1 || Parallelism.MaxDegree == 1 || elements < Parallelism.ParallelThreshold)
                {
                    for (int b = 0; b < blocks; b++)
                    {
                        partials[b] = RunBlock(job, b);
                    }
                }
                else
                {
                    BlockWork<T> work = BlockWork<T>.ForThisThread;
                    (work.Job, work.Partials) = (job, partials);
                    WorkerPool.For(blocks, Parallelism.MaxDegree, work);
                    (work.Job, work.Partials) = (default, null);
                }
            }

            double sum = 0;
            for (int b = 0; b < blocks; b++)
            {
                sum += partials[b];
            }

            return CrossEntropy.Result(options.Reduction, sum, denominator, count, layout.Positions);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(weightT);
            ArrayPool<double>.Shared.Return(partials);
            ArrayPool<double>.Shared.Return(offsets);
            ArrayPool<double>.Shared.Return(margins);
            ArrayPool<float>.Shared.Return(scaledMargins);
            ArrayPool<T>.Shared.Return(pattern);
        }
    }

    private struct Job<T>
        where T : unmanaged
    {
        public ClassificationLoss Loss;
        public T* X;
        public int* Y;
        public int N, C, S, RowsPerBlock, IgnoreIndex;
        public T* Losses;
        public T* Gradient;
        public T* Weight;
        public double* WeightDouble;
        public double WeightSum;
        public double* Offset;
        public T* OffsetPattern;
        public T* OffsetValues;
        public double* Margin;
        public float* ScaledMargin;
        public double Scale;
        public bool InDouble;
        public double Kappa;
    }

    /// <summary>The blocks of one call, reused per calling thread so that parallel calls allocate nothing.</summary>
    private sealed class BlockWork<T> : IParallelWork
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic]
        private static BlockWork<T>? t_instance;

        public Job<T> Job;
        public double[]? Partials;

        public static BlockWork<T> ForThisThread => t_instance ??= new BlockWork<T>();

        public void Run(int index) => Partials![index] = RunBlock(Job, index);
    }

    private static double RunBlock<T>(in Job<T> job, int block)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = job.C, s = job.S;
        int first = block * job.RowsPerBlock, rows = Math.Min(job.RowsPerBlock, job.N - first);
        int elements = rows * c * s, positions = rows * s;
        long x0 = (long)first * c * s, p0 = (long)first * s;
        var x = new ReadOnlySpan<T>(job.X + x0, elements);
        var y = new ReadOnlySpan<int>(job.Y + p0, positions);
        Span<T> g = job.Gradient == null ? default : new Span<T>(job.Gradient + x0, elements);
        if (job.InDouble)
        {
            return typeof(T) == typeof(float) && s == 1 && job.Offset == null
                ? RunScaledFloatBlock(Unsafe.As<Job<T>, Job<float>>(ref Unsafe.AsRef(in job)), MemoryMarshal.Cast<T, float>(x), y, MemoryMarshal.Cast<T, float>(g), rows, p0)
                : RunScaledBlock(job, x, y, g, rows, p0);
        }

        T[]? shifted = null;
        T[]? perPosition = null;
        try
        {
            bool offsetInKernel = job.OffsetValues != null && s == 1 && c <= CrossEntropyKernel.RowChunk && (c > CrossEntropyKernel.LaneLimit || typeof(T) != typeof(float));
            if (offsetInKernel)
            {
                // Rows of one chunk: the kernel adds the offsets in its exp pass (no shifted copy of the block).
                ReadOnlySpan<T> w = job.Weight == null ? default : new ReadOnlySpan<T>(job.Weight, c);
                Span<T> l = job.Losses == null ? default : new Span<T>(job.Losses + p0, positions);
                return CrossEntropyKernel.RunBlock(x, rows, c, s, y, w, job.WeightSum, job.IgnoreIndex, l, g, job.Kappa,
                    hook: job.Loss.HasSoftmaxForm ? job.Loss.RowHook : null, offset: new ReadOnlySpan<T>(job.OffsetValues, c));
            }

            if (job.Offset != null)
            {
                shifted = ArrayPool<T>.Shared.Rent(elements);
                if (job.OffsetPattern != null)
                {
                    TensorPrimitives.Add(x, new ReadOnlySpan<T>(job.OffsetPattern, elements), shifted.AsSpan(0, elements));
                }
                else
                {
                    Shift(x, new ReadOnlySpan<double>(job.Offset, c), rows, c, s, shifted);
                }

                x = shifted.AsSpan(0, elements);
            }

            if (!job.Loss.HasSoftmaxForm || (s == 1 && (c > CrossEntropyKernel.LaneLimit || typeof(T) != typeof(float))))
            {
                // Cross-entropy on (shifted) logits, or long rows: the kernel's row path asks the loss for ℓ and g per
                // row and scales its own last pass by them (no extra pass over the gradient).
                ReadOnlySpan<T> w = job.Weight == null ? default : new ReadOnlySpan<T>(job.Weight, c);
                Span<T> l = job.Losses == null ? default : new Span<T>(job.Losses + p0, positions);
                return CrossEntropyKernel.RunBlock(x, rows, c, s, y, w, job.WeightSum, job.IgnoreIndex, l, g, job.Kappa, hook: job.Loss.HasSoftmaxForm ? job.Loss.RowHook : null);
            }

            // The kernel's unweighted, unscaled pass: −log p_y per position and softmax − e_y in the gradient.
            perPosition = ArrayPool<T>.Shared.Rent(positions);
            Span<T> nll = perPosition.AsSpan(0, positions);
            CrossEntropyKernel.RunBlock(x, rows, c, s, y, default, c, job.IgnoreIndex, nll, g, 1.0);
            return Finish(job, y, nll, g, rows, p0);
        }
        finally
        {
            if (shifted is not null)
            {
                ArrayPool<T>.Shared.Return(shifted);
            }

            if (perPosition is not null)
            {
                ArrayPool<T>.Shared.Return(perPosition);
            }
        }
    }

    /// <summary>
    /// CE(s·(z − Δ_y·e_y), y) on float 2-D input, in float without losing float's precision: the scale is applied to
    /// z − max z (whose rounding error is relative to the difference, not to s·|z|), and s·Δ_y is subtracted after it.
    /// Small C runs in the kernel's SIMD lanes with the scale and margins; other rows are shifted, scaled and
    /// margined into a cache-resident scratch first. The gradient's κ includes s.
    /// </summary>
    private static double RunScaledFloatBlock(in Job<float> job, ReadOnlySpan<float> x, ReadOnlySpan<int> y, Span<float> g, int rows, long p0)
    {
        int c = job.C;
        float scale = (float)job.Scale;
        double kappa = job.Kappa * job.Scale;
        ReadOnlySpan<float> w = job.Weight == null ? default : new ReadOnlySpan<float>(job.Weight, c);
        ReadOnlySpan<float> margin = job.ScaledMargin == null ? default : new ReadOnlySpan<float>(job.ScaledMargin, c);
        Span<float> losses = job.Losses == null ? default : new Span<float>(job.Losses + p0, rows);
        bool lanes = c <= CrossEntropyKernel.LaneLimit && (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated);
        int laneRows = lanes ? rows - (rows % 16) : 0;
        double sum = 0;
        if (laneRows > 0)
        {
            sum += CrossEntropyKernel.RunBlock(x[..(laneRows * c)], laneRows, c, 1, y[..laneRows], w, job.WeightSum, job.IgnoreIndex,
                losses.IsEmpty ? default : losses[..laneRows], g.IsEmpty ? default : g[..(laneRows * c)], kappa, scale, margin);
        }

        int rest = rows - laneRows;
        if (rest == 0)
        {
            return sum;
        }

        if (c > CrossEntropyKernel.LaneLimit && c <= CrossEntropyKernel.RowChunk)
        {
            // Rows of one chunk: the kernel's row path scales and margins them itself (no scratch).
            return sum + CrossEntropyKernel.RunBlock(x, rows, c, 1, y, w, job.WeightSum, job.IgnoreIndex, losses, g, kappa, scale, margin);
        }

        float[] scratch = ArrayPool<float>.Shared.Rent(rest * c);
        try
        {
            Span<float> t = scratch.AsSpan(0, rest * c);
            for (int r = 0; r < rest; r++)
            {
                ReadOnlySpan<float> row = x.Slice((laneRows + r) * c, c);
                Span<float> tr = t.Slice(r * c, c);
                float max = TensorPrimitives.Max(row);
                ShiftAndScale(row, max, scale, tr);
                int yi = y[laneRows + r];
                if ((uint)yi < (uint)c)
                {
                    // The target keeps its exact value (its loss term is −t_y); the others were floored at ln of the
                    // smallest normal float, where their exp no longer counts and subnormal arithmetic would be slow.
                    tr[yi] = ((row[yi] - max) * scale) - (margin.IsEmpty ? 0f : margin[yi]);
                }
            }

            sum += CrossEntropyKernel.RunBlock<float>(t, rest, c, 1, y[laneRows..], w, job.WeightSum, job.IgnoreIndex,
                losses.IsEmpty ? default : losses[laneRows..], g.IsEmpty ? default : g[(laneRows * c)..], kappa);
            return sum;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// max((z − m)·s, ln of the smallest normal float) in one pass: the difference is rounded first, so the error is
    /// relative to it; the floor keeps the kernel's exps normal (LDAM's s = 30 turns a gap of 3 into −90).
    /// </summary>
    private static void ShiftAndScale(ReadOnlySpan<float> z, float m, float s, Span<float> destination)
    {
        int i = 0;
        ref float source = ref MemoryMarshal.GetReference(z);
        ref float target = ref MemoryMarshal.GetReference(destination);
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> mv = Vector512.Create(m), sv = Vector512.Create(s), floor = Vector512.Create(FastExp.SmallestNormalExponent);
            for (; i + 16 <= z.Length; i += 16)
            {
                Vector512.Max((Vector512.LoadUnsafe(ref source, (nuint)i) - mv) * sv, floor).StoreUnsafe(ref target, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> mv = Vector256.Create(m), sv = Vector256.Create(s), floor = Vector256.Create(FastExp.SmallestNormalExponent);
            for (; i + 8 <= z.Length; i += 8)
            {
                Vector256.Max((Vector256.LoadUnsafe(ref source, (nuint)i) - mv) * sv, floor).StoreUnsafe(ref target, (nuint)i);
            }
        }

        for (; i < z.Length; i++)
        {
            destination[i] = Math.Max((z[i] - m) * s, FastExp.SmallestNormalExponent);
        }
    }

    /// <summary>
    /// CE(s·(z + offset − Δ_y·e_y), y) in double (the scale would cost float's precision: at s = 30 a float logit
    /// carries an absolute error of ~2e-6): the block is converted into a cache-resident double scratch, run through
    /// the kernel, and its gradient (× s) and losses converted back.
    /// </summary>
    private static double RunScaledBlock<T>(in Job<T> job, ReadOnlySpan<T> x, ReadOnlySpan<int> y, Span<T> g, int rows, long p0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = job.C, s = job.S, elements = x.Length, positions = y.Length;
        double scale = job.Scale;
        double[] z = ArrayPool<double>.Shared.Rent(elements);
        double[]? gradient = g.IsEmpty ? null : ArrayPool<double>.Shared.Rent(elements);
        double[]? losses = job.Losses == null ? null : ArrayPool<double>.Shared.Rent(positions);
        try
        {
            Span<double> t = z.AsSpan(0, elements);
            TensorPrimitives.ConvertTruncating<T, double>(x, t);
            if (job.Offset != null)
            {
                for (int r = 0; r < rows; r++)
                {
                    for (int k = 0; k < c; k++)
                    {
                        Span<double> segment = t.Slice((r * c * s) + (k * s), s);
                        TensorPrimitives.Add(segment, job.Offset[k], segment);
                    }
                }
            }

            if (job.Margin != null)
            {
                for (int i = 0; i < positions; i++)
                {
                    int yi = y[i];
                    if ((uint)yi < (uint)c)
                    {
                        t[(i / s * c * s) + (yi * s) + (i % s)] -= job.Margin[yi];
                    }
                }
            }

            TensorPrimitives.Multiply(t, scale, t);
            ReadOnlySpan<double> w = job.WeightDouble == null ? default : new ReadOnlySpan<double>(job.WeightDouble, c);
            Span<double> dl = losses is null ? default : losses.AsSpan(0, positions);
            Span<double> dg = gradient is null ? default : gradient.AsSpan(0, elements);
            double sum = CrossEntropyKernel.RunBlock<double>(t, rows, c, s, y, w, job.WeightSum, job.IgnoreIndex, dl, dg, job.Kappa * scale);
            if (!dg.IsEmpty)
            {
                TensorPrimitives.ConvertTruncating<double, T>(dg, g);
            }

            if (!dl.IsEmpty)
            {
                TensorPrimitives.ConvertTruncating<double, T>(dl, new Span<T>(job.Losses + p0, positions));
            }

            return sum;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(z);
            if (gradient is not null)
            {
                ArrayPool<double>.Shared.Return(gradient);
            }

            if (losses is not null)
            {
                ArrayPool<double>.Shared.Return(losses);
            }
        }
    }

    /// <summary>K-dimensional input: z + offset (per class, along the class stride S) into <paramref name="destination"/>.</summary>
    private static void Shift<T>(ReadOnlySpan<T> x, ReadOnlySpan<double> offset, int rows, int c, int s, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < c; k++)
            {
                int start = (r * c * s) + (k * s);
                TensorPrimitives.Add(x.Slice(start, s), T.CreateTruncating(offset[k]), destination.Slice(start, s));
            }
        }
    }

    /// <summary>ℓ and g from −log p_y for the block's positions, the weighted sum, and the gradient scaled in place.</summary>
    private static double Finish<T>(in Job<T> job, ReadOnlySpan<int> y, Span<T> nll, Span<T> g, int rows, long p0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = job.C, s = job.S, positions = nll.Length;
        double* logPy = stackalloc double[Tile];
        double* loss = stackalloc double[Tile];
        double* scale = stackalloc double[Tile];
        T* factor = stackalloc T[Tile];
        double sum = 0;
        for (int t0 = 0; t0 < positions; t0 += Tile)
        {
            int length = Math.Min(Tile, positions - t0);
            var lp = new Span<double>(logPy, length);
            var l = new Span<double>(loss, length);
            var sc = new Span<double>(scale, length);
            var f = new Span<T>(factor, length);
            Span<T> tile = nll.Slice(t0, length);
            ReadOnlySpan<int> ty = y.Slice(t0, length);
            TensorPrimitives.ConvertTruncating<T, double>(tile, lp);
            TensorPrimitives.Negate(lp, lp);
            job.Loss.SoftmaxForm(lp, l, sc);
            if (job.WeightDouble == null && !ty.Contains(job.IgnoreIndex))
            {
                sum += TensorPrimitives.Sum<double>(l);
                TensorPrimitives.Multiply(sc, job.Kappa, sc);
                TensorPrimitives.ConvertTruncating<double, T>(sc, f);
                TensorPrimitives.ConvertTruncating<double, T>(l, tile); // the per-position losses, written out below
            }
            else
            {
                for (int i = 0; i < length; i++)
                {
                    int yi = ty[i];
                    if (yi == job.IgnoreIndex)
                    {
                        // The kernel left 0 (or PyTorch's NaN for a non-finite row) in the gradient: keep it.
                        tile[i] = T.Zero;
                        f[i] = T.One;
                        continue;
                    }

                    double w = job.WeightDouble == null ? 1.0 : job.WeightDouble[yi];
                    double value = w * l[i];
                    sum += value;
                    tile[i] = T.CreateTruncating(value);
                    f[i] = T.CreateTruncating(job.Kappa * w * sc[i]);
                }
            }

            if (!g.IsEmpty)
            {
                ScaleGradient(g, f, t0, c, s);
            }
        }

        if (job.Losses != null)
        {
            nll.CopyTo(new Span<T>(job.Losses + p0, positions));
        }

        return sum;
    }

    /// <summary>Multiplies each position's C gradient values by its factor.</summary>
    private static void ScaleGradient<T>(Span<T> g, ReadOnlySpan<T> factor, int firstPosition, int c, int s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int length = factor.Length;
        if (s == 1)
        {
            int i = 0;
            if (typeof(T) == typeof(float) && c <= 16 && Avx512F.IsSupported)
            {
                i = ScaleSmallRows(MemoryMarshal.Cast<T, float>(g), MemoryMarshal.Cast<T, float>(factor), firstPosition, c);
            }

            for (; i < length; i++)
            {
                Span<T> row = g.Slice((firstPosition + i) * c, c);
                TensorPrimitives.Multiply(row, factor[i], row);
            }

            return;
        }

        // K-dimensional: position p = (row b, offset j); its classes lie S apart. Positions of a tile may span rows.
        int i0 = 0;
        while (i0 < length)
        {
            int p = firstPosition + i0, b = p / s, j = p % s;
            int run = Math.Min(length - i0, s - j);
            for (int k = 0; k < c; k++)
            {
                Span<T> segment = g.Slice((b * c * s) + (k * s) + j, run);
                TensorPrimitives.Multiply(segment, factor.Slice(i0, run), segment);
            }

            i0 += run;
        }
    }

    /// <summary>
    /// Rows of C ≤ 16 floats, 16 rows at a time: the 16 row factors are spread over the rows' 16·C values with
    /// permutes. Returns the rows done (a multiple of 16).
    /// </summary>
    private static int ScaleSmallRows(Span<float> g, ReadOnlySpan<float> factor, int firstPosition, int c)
    {
        Vector512<int>* index = stackalloc Vector512<int>[16];
        int* lanes = stackalloc int[16];
        for (int v = 0; v < c; v++)
        {
            // Value l of vector v (of the 16·C values of 16 rows) belongs to row (16·v + l) ÷ C.
            for (int l = 0; l < 16; l++)
            {
                lanes[l] = ((16 * v) + l) / c;
            }

            index[v] = Vector512.Load(lanes);
        }

        int i = 0;
        fixed (float* pg = g)
        fixed (float* pf = factor)
        {
            for (; i + 16 <= factor.Length; i += 16)
            {
                Vector512<float> fv = Vector512.Load(pf + i);
                float* row = pg + ((long)(firstPosition + i) * c);
                for (int v = 0; v < c; v++)
                {
                    (Vector512.Load(row + (16 * v)) * Avx512F.PermuteVar16x32(fv, index[v])).Store(row + (16 * v));
                }
            }
        }

        return i;
    }
}
