using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// The computation shared by <see cref="Conv1d"/> and <see cref="Conv2d"/>, by im2col and the SGEMM over chunks of a
/// few samples each: a chunk's column matrix [C·kh·kw, S·OH·OW] is built in a per-thread scratch small enough to stay
/// in the core's cache until the SGEMM reads it, and the chunks run in parallel on the worker pool, each with a serial
/// SGEMM. The forward writes each chunk's product [OC, S·P] and scatters it (plus the bias) into the NCHW output. The
/// backward builds the chunk's columns again from the input (cheaper than keeping the whole batch's columns, which
/// would leave the cache and come back from memory), gathers the chunk's dY, computes the chunk's partial dW and bias
/// gradient, then its column gradient (over the columns, no longer needed), which col2im adds back onto each sample's
/// input gradient; the partials are added to the gradients in chunk order. The chunk size depends only on the geometry
/// and the batch, never on the thread count, and the SGEMM is bit-identical for any thread count, so the layer is too.
/// The buffers grow with the largest batch seen and are reused, so a warm step allocates nothing.
/// </summary>
internal sealed class Convolution
{
    /// <summary>The column values a chunk aims at (512 KiB): it and its product fit a core's L2 cache.</summary>
    private const int ChunkColumnValues = 1 << 17;

    /// <summary>A batch is split into at least this many chunks when it has that many samples (so that both cores get work).</summary>
    private const int MinChunks = 8;

    private readonly ConvGeometry _g;
    private readonly int _outChannels;
    private float[] _partialWeight = [];
    private float[] _partialBias = [];
    private readonly ChunkWork _forward;
    private readonly ChunkWork _backward;
    private readonly ReduceWork _reduce;

    /// <summary>This thread's chunk columns (and then column gradient).</summary>
    [ThreadStatic]
    private static float[]? t_columns;

    /// <summary>This thread's masked gradient of one pooled plane (backward with a fused ReLU and pooling).</summary>
    [ThreadStatic]
    private static float[]? t_masked;

    /// <summary>This thread's chunk product [OC, S·P] (or gathered dY).</summary>
    [ThreadStatic]
    private static float[]? t_product;

    public Convolution(ConvGeometry geometry, int outChannels, Parameter weight, Parameter? bias, XentRandom random)
    {
        _g = geometry;
        _outChannels = outChannels;
        Weight = weight;
        Bias = bias;
        // PyTorch's default: kaiming_uniform_(a=√5) gives U(−1/√fan_in, 1/√fan_in) for the weight, and the bias uses the same bound.
        float bound = 1f / MathF.Sqrt(geometry.Rows);
        for (int i = 0; i < weight.Value.Length; i++)
        {
            weight.Value[i] = random.NextSingle(-bound, bound);
        }

        if (bias is not null)
        {
            for (int i = 0; i < bias.Value.Length; i++)
            {
                bias.Value[i] = random.NextSingle(-bound, bound);
            }
        }

        _forward = new ChunkWork(this, backward: false);
        _backward = new ChunkWork(this, backward: true);
        _reduce = new ReduceWork(this);
    }

    public Parameter Weight { get; }

    public Parameter? Bias { get; }

    public int InputFeatures => _g.Channels * _g.Plane;

    /// <summary>Whether the chunks' dW partials are stored transposed, [rows, OC] (when rows &lt; OC).</summary>
    private bool TransposedPartials => _g.Rows < _outChannels;

    public int OutputFeatures => _outChannels * _g.OutPlane;

    /// <summary>Samples per chunk for a batch: a function of the geometry and the batch only.</summary>
    private int SamplesPerChunk(int batch)
    {
        long perSample = (long)_g.Rows * _g.OutPlane;
        int byCache = (int)Math.Max(1, ChunkColumnValues / perSample);
        int byBatch = Math.Max(1, (batch + MinChunks - 1) / MinChunks);
        return Math.Min(byCache, byBatch);
    }

    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batch) => Forward(input, output, batch, relu: false, pool: null);

    /// <summary>
    /// The forward, with a ReLU and a max pooling that follow the convolution applied to each chunk's product while
    /// it is in cache (the fusion <see cref="Sequential"/> plans): the bias is added and the plane rectified as the
    /// <see cref="ReLU"/> layer does, then pooled as the pooling layer does (its max positions kept in
    /// <paramref name="pool"/> for the backward), so <paramref name="output"/> gets the same bits as the three layers
    /// run one after the other, and the convolution's and the ReLU's own outputs are never written.
    /// </summary>
    /// <param name="input">(batch, InputFeatures).</param>
    /// <param name="output">(batch, OutputFeatures), or (batch, the pooling's output features) with <paramref name="pool"/>.</param>
    /// <param name="batch">Samples.</param>
    /// <param name="relu">Whether a ReLU follows.</param>
    /// <param name="pool">The max pooling that follows (after the ReLU), over this layer's output shape, or <see langword="null"/>.</param>
    public unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool relu, Pooling? pool)
    {
        CheckFusion(pool);
        long outputs = (long)batch * (pool is null ? OutputFeatures : pool.OutputFeatures);
        if (input.Length < (long)batch * InputFeatures || output.Length < outputs)
        {
            throw new ArgumentException($"Convolution forward: a batch of {batch} needs {(long)batch * InputFeatures} input and {outputs} output values; got {input.Length} and {output.Length}.", nameof(output));
        }

        Reserve(batch);
        pool?.Reserve(batch);
        (_forward.Relu, _forward.Pool) = (relu, pool);
        fixed (float* x = input)
        fixed (float* y = output)
        {
            Run(_forward, x, null, y, null, batch);
        }

        _forward.Pool = null;
    }

    /// <summary>Whether <paramref name="pool"/> is a max pooling over this layer's output planes (and can be fused).</summary>
    public bool Fits(Pooling pool) => pool.Max && pool.Geometry.Channels == _outChannels && pool.Geometry.Height == _g.OutHeight && pool.Geometry.Width == _g.OutWidth;

    /// <summary>Checks that a fused pooling is a max pooling over this layer's output planes.</summary>
    private void CheckFusion(Pooling? pool)
    {
        if (pool is not null && !Fits(pool))
        {
            throw new ArgumentException($"Convolution: a fused pooling must be a max pooling over ({_outChannels}, {_g.OutHeight}, {_g.OutWidth}).", nameof(pool));
        }
    }

    /// <summary>Adds this batch's dW (and db) to the gradients and writes dX unless <paramref name="inputGradient"/> is empty.</summary>
    /// <param name="input">The forward's input (its columns are built again).</param>
    /// <param name="outputGradient">d loss / d output, (batch, OutputFeatures).</param>
    /// <param name="inputGradient">Receives d loss / d input, or empty to skip it.</param>
    /// <param name="batch">Samples.</param>
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
        => Backward(input, default, outputGradient, inputGradient, batch, relu: false, pool: null);

    /// <summary>
    /// The backward of <see cref="Forward(ReadOnlySpan{float}, Span{float}, int, bool, Pooling?)"/> with the same
    /// <paramref name="relu"/> and <paramref name="pool"/>: each chunk's dY is built from the fused output's gradient
    /// as the pooling's and the ReLU's backward would (scattered to the kept max positions, masked where the kept
    /// output is not positive), in the same order, so the gradients get the same bits as the unfused layers'.
    /// </summary>
    /// <param name="input">The forward's input (its columns are built again).</param>
    /// <param name="output">The fused forward's output (the ReLU's mask); unused without <paramref name="relu"/>.</param>
    /// <param name="outputGradient">d loss / d fused output.</param>
    /// <param name="inputGradient">Receives d loss / d input, or empty to skip it.</param>
    /// <param name="batch">Samples.</param>
    /// <param name="relu">Whether the forward applied a ReLU.</param>
    /// <param name="pool">The max pooling the forward applied, or <see langword="null"/>.</param>
    public unsafe void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch, bool relu, Pooling? pool)
    {
        CheckFusion(pool);
        long inputs = (long)batch * InputFeatures, outputs = (long)batch * (pool is null ? OutputFeatures : pool.OutputFeatures);
        if (relu && output.Length < outputs)
        {
            throw new ArgumentException($"Convolution backward: the fused output holds {output.Length} values; a batch of {batch} needs {outputs}.", nameof(output));
        }

        if (input.Length < inputs)
        {
            throw new ArgumentException($"Convolution backward: the input holds {input.Length} values; a batch of {batch} needs {inputs}.", nameof(input));
        }

        if (outputGradient.Length < outputs)
        {
            throw new ArgumentException($"Convolution backward: the output gradient holds {outputGradient.Length} values; a batch of {batch} needs {outputs}.", nameof(outputGradient));
        }

        if (!inputGradient.IsEmpty && inputGradient.Length < inputs)
        {
            throw new ArgumentException($"Convolution backward: the input gradient holds {inputGradient.Length} values; a batch of {batch} needs {inputs} (or none, to skip it).", nameof(inputGradient));
        }

        Reserve(batch);
        int chunks;
        (_backward.Relu, _backward.Pool) = (relu, pool);
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (float* dy = outputGradient)
        fixed (float* dx = inputGradient)
        {
            chunks = Run(_backward, x, inputGradient.IsEmpty ? null : dx, dy, relu ? y : null, batch);
        }

        _backward.Pool = null;

        int rows = _g.Rows, weights = _outChannels * rows;
        if (!TransposedPartials)
        {
            // Each weight's partials are added in chunk order by one thread (blocks of weights in parallel): the
            // serial loop's sums, bit for bit.
            _reduce.Chunks = chunks;
            int blocks = (weights + ReduceBlock - 1) / ReduceBlock;
            WorkerPool.For(blocks, (long)weights * chunks >= Parallelism.ParallelThreshold ? Parallelism.MaxDegree : 1, _reduce);
        }

        for (int j = 0; j < chunks; j++)
        {
            ReadOnlySpan<float> partial = _partialWeight.AsSpan(j * weights, weights);
            if (TransposedPartials)
            {
                float[] gradient = Weight.Gradient;
                for (int o = 0; o < _outChannels; o++)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        gradient[(o * rows) + r] += partial[(r * _outChannels) + o];
                    }
                }
            }

            if (Bias is not null)
            {
                TensorPrimitives.Add(Bias.Gradient, _partialBias.AsSpan(j * _outChannels, _outChannels), Bias.Gradient);
            }
        }
    }

    /// <summary>Weights per block of the parallel sum of the chunks' dW partials.</summary>
    private const int ReduceBlock = 2048;

    /// <summary>Adds the chunks' dW partials ([OC, rows] each) to the weight gradient, one block of weights per index.</summary>
    private sealed class ReduceWork(Convolution owner) : IParallelWork
    {
        public int Chunks;

        public void Run(int index)
        {
            int weights = owner.Weight.Gradient.Length, start = index * ReduceBlock, count = Math.Min(ReduceBlock, weights - start);
            Span<float> gradient = owner.Weight.Gradient.AsSpan(start, count);
            for (int j = 0; j < Chunks; j++)
            {
                TensorPrimitives.Add(gradient, owner._partialWeight.AsSpan((j * weights) + start, count), gradient);
            }
        }
    }

    private unsafe int Run(ChunkWork work, float* input, float* inputGradient, float* outputSide, float* kept, int batch)
    {
        int per = SamplesPerChunk(batch);
        int chunks = (batch + per - 1) / per;
        long elements = (long)batch * _g.Rows * _g.OutPlane;
        work.Input = input;
        work.InputGradient = inputGradient;
        work.OutputSide = outputSide;
        work.Kept = kept;
        (work.Batch, work.PerChunk) = (batch, per);
        WorkerPool.For(chunks, elements >= Parallelism.ParallelThreshold ? Parallelism.MaxDegree : 1, work);
        work.Input = null;
        work.InputGradient = null;
        work.OutputSide = null;
        work.Kept = null;
        return chunks;
    }

    private void Reserve(int batch)
    {
        int chunks = (batch + SamplesPerChunk(batch) - 1) / SamplesPerChunk(batch);
        if (_partialBias.Length < chunks * _outChannels)
        {
            _partialWeight = new float[chunks * _outChannels * _g.Rows];
            _partialBias = new float[chunks * _outChannels];
        }
    }

    /// <summary>This thread's scratch, grown to at least <paramref name="length"/> values (only when a larger chunk first comes).</summary>
    private static float[] Scratch(ref float[]? scratch, int length) => scratch is { } s && s.Length >= length ? s : (scratch = new float[length]);

    /// <summary>
    /// result[r·n + o] = Σ_p a[r·ld + p] · b[o·ld + p] for r &lt; <paramref name="m"/>, o &lt; <paramref name="n"/>, p &lt;
    /// <paramref name="length"/>: the few-rows dW without packing. Each sum runs over p in SIMD lanes (lane l takes
    /// p ≡ l modulo the width, in order), then across the lanes, then the scalar tail: a fixed order.
    /// </summary>
    private static void RowDots(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int m, int n, int length, Span<float> result)
    {
        int ld = length;
        if (a.Length < ((m - 1) * ld) + length || b.Length < ((n - 1) * ld) + length || result.Length < m * n)
        {
            throw new ArgumentException("RowDots: an operand is shorter than its rows.");
        }

        for (int o = 0; o < n; o++)
        {
            ReadOnlySpan<float> y = b.Slice(o * ld, length);
            int r = 0;
            for (; r + 4 <= m; r += 4)
            {
                Dot4(a.Slice(r * ld), ld, y, out float s0, out float s1, out float s2, out float s3);
                result[(r * n) + o] = s0;
                result[((r + 1) * n) + o] = s1;
                result[((r + 2) * n) + o] = s2;
                result[((r + 3) * n) + o] = s3;
            }

            for (; r < m; r++)
            {
                result[(r * n) + o] = Dot(a.Slice(r * ld, length), y);
            }
        }
    }

    /// <summary>Four rows of <paramref name="a"/> (stride <paramref name="ld"/>) dotted with <paramref name="y"/>, in <see cref="RowDots"/>'s order.</summary>
    private static void Dot4(ReadOnlySpan<float> a, int ld, ReadOnlySpan<float> y, out float s0, out float s1, out float s2, out float s3)
    {
        int length = y.Length, p = 0;
        ReadOnlySpan<float> a0 = a[..length], a1 = a.Slice(ld, length), a2 = a.Slice(2 * ld, length), a3 = a.Slice(3 * ld, length);
        s0 = s1 = s2 = s3 = 0;
        if (Vector512.IsHardwareAccelerated && length >= 16)
        {
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
            for (; p <= length - 16; p += 16)
            {
                var v = Vector512.Create(y.Slice(p, 16));
                c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0.Slice(p, 16)), v, c0);
                c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1.Slice(p, 16)), v, c1);
                c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2.Slice(p, 16)), v, c2);
                c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3.Slice(p, 16)), v, c3);
            }

            (s0, s1, s2, s3) = (Vector512.Sum(c0), Vector512.Sum(c1), Vector512.Sum(c2), Vector512.Sum(c3));
        }
        else if (Vector256.IsHardwareAccelerated && length >= 8)
        {
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
            for (; p <= length - 8; p += 8)
            {
                var v = Vector256.Create(y.Slice(p, 8));
                c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a0.Slice(p, 8)), v, c0);
                c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a1.Slice(p, 8)), v, c1);
                c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a2.Slice(p, 8)), v, c2);
                c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a3.Slice(p, 8)), v, c3);
            }

            (s0, s1, s2, s3) = (Vector256.Sum(c0), Vector256.Sum(c1), Vector256.Sum(c2), Vector256.Sum(c3));
        }

        for (; p < length; p++)
        {
            s0 = MathF.FusedMultiplyAdd(a0[p], y[p], s0);
            s1 = MathF.FusedMultiplyAdd(a1[p], y[p], s1);
            s2 = MathF.FusedMultiplyAdd(a2[p], y[p], s2);
            s3 = MathF.FusedMultiplyAdd(a3[p], y[p], s3);
        }
    }

    /// <summary>One row dotted with <paramref name="y"/>, in <see cref="RowDots"/>'s order.</summary>
    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> y)
    {
        int length = y.Length, p = 0;
        float s = 0;
        if (Vector512.IsHardwareAccelerated && length >= 16)
        {
            Vector512<float> c = default;
            for (; p <= length - 16; p += 16)
            {
                c = Vector512.FusedMultiplyAdd(Vector512.Create(a.Slice(p, 16)), Vector512.Create(y.Slice(p, 16)), c);
            }

            s = Vector512.Sum(c);
        }
        else if (Vector256.IsHardwareAccelerated && length >= 8)
        {
            Vector256<float> c = default;
            for (; p <= length - 8; p += 8)
            {
                c = Vector256.FusedMultiplyAdd(Vector256.Create(a.Slice(p, 8)), Vector256.Create(y.Slice(p, 8)), c);
            }

            s = Vector256.Sum(c);
        }

        for (; p < length; p++)
        {
            s = MathF.FusedMultiplyAdd(a[p], y[p], s);
        }

        return s;
    }

    /// <summary>One chunk of samples: im2col, SGEMM and scatter (forward), or im2col, gather, dW, dcol and col2im (backward).</summary>
    private sealed unsafe class ChunkWork(Convolution owner, bool backward) : IParallelWork
    {
        public float* Input;
        public float* InputGradient;
        public float* OutputSide;

        /// <summary>Backward with a ReLU: the fused forward's output, whose sign masks the gradient.</summary>
        public float* Kept;

        /// <summary>Whether a ReLU follows (fused).</summary>
        public bool Relu;

        /// <summary>The max pooling that follows (fused), or null.</summary>
        public Pooling? Pool;
        public int Batch;
        public int PerChunk;

        public void Run(int index)
        {
            ConvGeometry g = owner._g;
            int oc = owner._outChannels, rows = g.Rows, plane = g.OutPlane, size = g.Channels * g.Plane;
            int first = index * PerChunk, samples = Math.Min(PerChunk, Batch - first), ldc = samples * plane;
            Span<float> col = Scratch(ref t_columns, rows * PerChunk * plane).AsSpan(0, rows * ldc);
            Span<float> product = Scratch(ref t_product, oc * PerChunk * plane).AsSpan(0, oc * ldc);
            for (int s = 0; s < samples; s++)
            {
                Im2Col.Expand(new ReadOnlySpan<float>(Input + ((long)(first + s) * size), size), g, col[(s * plane)..], ldc);
            }

            if (!backward)
            {
                // Y [OC, S·P] = W [OC, rows] · col [rows, S·P], then into each sample's [OC, P] with the bias.
                Sgemm.Multiply(Transpose.No, Transpose.No, oc, ldc, rows, 1f, owner.Weight.Value, rows, col, ldc, 0f, product, ldc);
                for (int s = 0; s < samples; s++)
                {
                    for (int o = 0; o < oc; o++)
                    {
                        Span<float> src = product.Slice((o * ldc) + (s * plane), plane);
                        int at = ((first + s) * oc) + o;
                        if (Pool is { } pool)
                        {
                            // Bias and ReLU in place in the cached product, then the pooling's own plane code.
                            Epilogue(src, src, o);
                            pool.ForwardPlane(src, new Span<float>(OutputSide + ((long)at * pool.Geometry.OutPlane), pool.Geometry.OutPlane), at);
                        }
                        else
                        {
                            Epilogue(src, new Span<float>(OutputSide + ((long)at * plane), plane), o);
                        }
                    }
                }

                return;
            }

            // dY gathered as [OC, S·P]: with a fused ReLU masked by the kept output, with a fused pooling scattered
            // to the kept max positions (as the layers' own backward passes do, in their order).
            for (int s = 0; s < samples; s++)
            {
                for (int o = 0; o < oc; o++)
                {
                    Span<float> dst = product.Slice((o * ldc) + (s * plane), plane);
                    int at = ((first + s) * oc) + o;
                    if (Pool is { } pool)
                    {
                        int pooled = pool.Geometry.OutPlane;
                        var dy = new ReadOnlySpan<float>(OutputSide + ((long)at * pooled), pooled);
                        ReadOnlySpan<int> argmax = pool.ArgmaxOf(at);
                        dst.Clear();
                        if (Relu)
                        {
                            // The pooled value is the ReLU's output at its max position, so the ReLU's mask there is
                            // y > 0, the same for every window that picked that position: masking dy before the
                            // scatter (a vector select, no branch) adds +0 where the layers would have masked the
                            // sum to +0, and the same values in the same order elsewhere.
                            Span<float> masked = Scratch(ref t_masked, pooled).AsSpan(0, pooled);
                            ReLU.BackwardSpan(new ReadOnlySpan<float>(Kept + ((long)at * pooled), pooled), dy, masked);
                            dy = masked;
                        }

                        for (int q = 0; q < pooled; q++)
                        {
                            dst[argmax[q]] += dy[q];
                        }
                    }
                    else if (Relu)
                    {
                        ReLU.BackwardSpan(new ReadOnlySpan<float>(Kept + ((long)at * plane), plane), new ReadOnlySpan<float>(OutputSide + ((long)at * plane), plane), dst);
                    }
                    else
                    {
                        new ReadOnlySpan<float>(OutputSide + ((long)at * plane), plane).CopyTo(dst);
                    }
                }
            }

            if (owner.Bias is not null)
            {
                Span<float> bias = owner._partialBias.AsSpan(index * oc, oc);
                for (int o = 0; o < oc; o++)
                {
                    bias[o] = TensorPrimitives.Sum<float>(product.Slice(o * ldc, ldc));
                }
            }

            // dW_chunk [OC, rows] = dY · colᵀ, or when rows < OC its transpose [rows, OC] by dot products of rows (a
            // first layer's 9 rows over a chunk's 10,816 positions: the SGEMM would spend its time packing).
            Span<float> partial = owner._partialWeight.AsSpan(index * oc * rows, oc * rows);
            if (owner.TransposedPartials)
            {
                RowDots(col, product, rows, oc, ldc, partial);
            }
            else
            {
                Sgemm.Multiply(Transpose.No, Transpose.Yes, oc, rows, ldc, 1f, product, ldc, col, ldc, 0f, partial, rows);
            }

            if (InputGradient is null)
            {
                return;
            }

            // dcol [rows, S·P] = Wᵀ · dY, over the columns (no longer needed), then col2im onto each sample's input gradient.
            Sgemm.Multiply(Transpose.Yes, Transpose.No, rows, ldc, oc, 1f, owner.Weight.Value, rows, product, ldc, 0f, col, ldc);
            for (int s = 0; s < samples; s++)
            {
                var image = new Span<float>(InputGradient + ((long)(first + s) * size), size);
                image.Clear();
                Im2Col.Accumulate(col[(s * plane)..], ldc, g, image);
            }
        }

        /// <summary>dst = src + bias[o], rectified when a ReLU is fused (the same bits as the add and the ReLU layer); in place when the spans are one.</summary>
        private void Epilogue(ReadOnlySpan<float> src, Span<float> dst, int o)
        {
            Parameter? bias = owner.Bias;
            if (Relu)
            {
                if (bias is null)
                {
                    ReLU.ForwardSpan(src, dst);
                }
                else
                {
                    ReLU.BiasForwardSpan(src, bias.Value[o], dst);
                }
            }
            else if (bias is not null)
            {
                TensorPrimitives.Add(src, bias.Value[o], dst);
            }
            else if (!src.Overlaps(dst))
            {
                src.CopyTo(dst);
            }
        }
    }
}
