using System.Numerics.Tensors;
using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// The computation shared by <see cref="Conv1d"/> and <see cref="Conv2d"/>, by im2col and the SGEMM over chunks of a
/// few samples each: a chunk's column matrix [C·kh·kw, S·OH·OW] is small enough to stay in the core's cache between
/// im2col and the SGEMM that reads it, and the chunks run in parallel on the worker pool, each with a serial SGEMM.
/// The forward writes each chunk's product [OC, S·P] and scatters it (plus the bias) into the NCHW output. The
/// backward gathers a chunk's dY, computes the chunk's partial dW and bias gradient, and its column gradient, which
/// col2im adds back onto each sample's input gradient; the partials are added to the gradients in chunk order.
/// The chunk size depends only on the geometry and the batch, never on the thread count, and the SGEMM is
/// bit-identical for any thread count, so the layer is too. The buffers are sized for the largest batch seen and
/// reused, so a warm step allocates nothing.
/// </summary>
internal sealed class Convolution
{
    /// <summary>The column values a chunk aims at (512 KiB): it and its product fit a core's L2 cache.</summary>
    private const int ChunkColumnValues = 1 << 17;

    /// <summary>A batch is split into at least this many chunks when it has that many samples (so that both cores get work).</summary>
    private const int MinChunks = 8;

    private readonly ConvGeometry _g;
    private readonly int _outChannels;
    private float[] _col = [];
    private float[] _product = [];
    private float[] _partialWeight = [];
    private float[] _partialBias = [];
    private int _capacity;
    private readonly ChunkWork _forward;
    private readonly ChunkWork _backward;

    [ThreadStatic]
    private static float[]? t_columnGradient;

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

    public unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        Reserve(batch);
        fixed (float* x = input)
        fixed (float* y = output)
        {
            Run(_forward, x, y, batch, needInputGradient: false);
        }
    }

    public unsafe void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int chunks = Run(outputGradient, inputGradient, batch);
        int rows = _g.Rows, weights = _outChannels * rows;
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
            else
            {
                TensorPrimitives.Add(Weight.Gradient, partial, Weight.Gradient);
            }

            if (Bias is not null)
            {
                TensorPrimitives.Add(Bias.Gradient, _partialBias.AsSpan(j * _outChannels, _outChannels), Bias.Gradient);
            }
        }
    }

    private unsafe int Run(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        fixed (float* dy = outputGradient)
        fixed (float* dx = inputGradient)
        {
            return Run(_backward, dx, dy, batch, needInputGradient: !inputGradient.IsEmpty);
        }
    }

    private unsafe int Run(ChunkWork work, float* image, float* outputSide, int batch, bool needInputGradient)
    {
        int per = SamplesPerChunk(batch);
        int chunks = (batch + per - 1) / per;
        long elements = (long)batch * _g.Rows * _g.OutPlane;
        work.Image = image;
        work.OutputSide = outputSide;
        (work.Batch, work.PerChunk, work.NeedInputGradient) = (batch, per, needInputGradient);
        WorkerPool.For(chunks, elements >= Parallelism.ParallelThreshold ? Parallelism.MaxDegree : 1, work);
        work.Image = null;
        work.OutputSide = null;
        return chunks;
    }

    private void Reserve(int batch)
    {
        int chunks = (batch + SamplesPerChunk(batch) - 1) / SamplesPerChunk(batch);
        if (batch > _capacity)
        {
            long columns = (long)_g.Rows * batch * _g.OutPlane;
            if (columns > Array.MaxLength)
            {
                throw new ArgumentException($"A batch of {batch} needs a column matrix of {columns} values, more than an array holds; use a smaller batch.", nameof(batch));
            }

            _capacity = batch;
            _col = new float[columns];
            _product = new float[_outChannels * batch * _g.OutPlane];
        }

        if (_partialBias.Length < chunks * _outChannels)
        {
            _partialWeight = new float[chunks * _outChannels * _g.Rows];
            _partialBias = new float[chunks * _outChannels];
        }
    }

    /// <summary>One chunk of samples: im2col, SGEMM and scatter (forward), or gather, dW, dcol and col2im (backward).</summary>
    private sealed unsafe class ChunkWork(Convolution owner, bool backward) : IParallelWork
    {
        public float* Image;
        public float* OutputSide;
        public int Batch;
        public int PerChunk;
        public bool NeedInputGradient;

        public void Run(int index)
        {
            ConvGeometry g = owner._g;
            int oc = owner._outChannels, rows = g.Rows, plane = g.OutPlane, size = g.Channels * g.Plane;
            int first = index * PerChunk, samples = Math.Min(PerChunk, Batch - first), ldc = samples * plane;
            Span<float> col = owner._col.AsSpan(first * rows * plane, rows * ldc);
            Span<float> product = owner._product.AsSpan(first * oc * plane, oc * ldc);
            if (!backward)
            {
                for (int s = 0; s < samples; s++)
                {
                    Im2Col.Expand(new ReadOnlySpan<float>(Image + ((long)(first + s) * size), size), g, col[(s * plane)..], ldc);
                }

                // Y [OC, S·P] = W [OC, rows] · col [rows, S·P], then into each sample's [OC, P] with the bias.
                Sgemm.Multiply(Transpose.No, Transpose.No, oc, ldc, rows, 1f, owner.Weight.Value, rows, col, ldc, 0f, product, ldc);
                for (int s = 0; s < samples; s++)
                {
                    for (int o = 0; o < oc; o++)
                    {
                        ReadOnlySpan<float> src = product.Slice((o * ldc) + (s * plane), plane);
                        var dst = new Span<float>(OutputSide + ((((long)(first + s) * oc) + o) * plane), plane);
                        if (owner.Bias is null)
                        {
                            src.CopyTo(dst);
                        }
                        else
                        {
                            TensorPrimitives.Add(src, owner.Bias.Value[o], dst);
                        }
                    }
                }

                return;
            }

            // dY gathered as [OC, S·P] in the product's buffer (the output itself is kept by the container).
            for (int s = 0; s < samples; s++)
            {
                for (int o = 0; o < oc; o++)
                {
                    new ReadOnlySpan<float>(OutputSide + ((((long)(first + s) * oc) + o) * plane), plane).CopyTo(product.Slice((o * ldc) + (s * plane), plane));
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

            // dW_chunk [OC, rows] = dY · colᵀ, or its transpose [rows, OC] = col · dYᵀ when rows < OC (a first layer's
            // 9 rows would fill a third of the microkernel's 32 columns; as its rows they fill three quarters of 12).
            Span<float> partial = owner._partialWeight.AsSpan(index * oc * rows, oc * rows);
            if (owner.TransposedPartials)
            {
                Sgemm.Multiply(Transpose.No, Transpose.Yes, rows, oc, ldc, 1f, col, ldc, product, ldc, 0f, partial, oc);
            }
            else
            {
                Sgemm.Multiply(Transpose.No, Transpose.Yes, oc, rows, ldc, 1f, product, ldc, col, ldc, 0f, partial, rows);
            }
            if (!NeedInputGradient)
            {
                return;
            }

            // dcol [rows, S·P] = Wᵀ · dY, in this thread's scratch, then col2im onto each sample's input gradient.
            float[] dcol = t_columnGradient is { } scratch && scratch.Length >= rows * ldc ? scratch : (t_columnGradient = new float[rows * PerChunk * plane]);
            Sgemm.Multiply(Transpose.Yes, Transpose.No, rows, ldc, oc, 1f, owner.Weight.Value, rows, product, ldc, 0f, dcol, ldc);
            for (int s = 0; s < samples; s++)
            {
                var image = new Span<float>(Image + ((long)(first + s) * size), size);
                image.Clear();
                Im2Col.Accumulate(dcol.AsSpan(s * plane), ldc, g, image);
            }
        }
    }
}
