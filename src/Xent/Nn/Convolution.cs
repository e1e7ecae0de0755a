using System.Numerics.Tensors;
using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// The computation shared by <see cref="Conv1d"/> and <see cref="Conv2d"/>: im2col of the whole batch into one column
/// matrix [C·kh·kw, N·OH·OW], one SGEMM for the output, and for the backward one SGEMM for dW and one for the column
/// gradient, which col2im adds back onto each sample's input gradient. The column matrices are sized for the largest
/// batch seen and reused, so a warm step allocates nothing. im2col and col2im run one sample per index on the worker
/// pool (each sample's values are computed the same way whatever thread runs it), and the SGEMM is bit-identical for
/// any thread count, so the layer is too.
/// </summary>
internal sealed class Convolution
{
    private readonly ConvGeometry _g;
    private readonly int _outChannels;
    private float[] _col = [];
    private float[] _product = [];
    private float[] _colGradient = [];
    private int _capacity;
    private readonly SampleWork _expand;
    private readonly SampleWork _accumulate;

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

        _expand = new SampleWork(this, accumulate: false);
        _accumulate = new SampleWork(this, accumulate: true);
    }

    public Parameter Weight { get; }

    public Parameter? Bias { get; }

    public int InputFeatures => _g.Channels * _g.Plane;

    public int OutputFeatures => _outChannels * _g.OutPlane;

    public unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        Reserve(batch);
        int plane = _g.OutPlane, ldc = batch * plane, rows = _g.Rows;
        fixed (float* x = input)
        {
            RunSamples(_expand, x, batch, (long)batch * rows * plane);
        }

        // Y [OC, N·P] = W [OC, rows] · col [rows, N·P].
        Sgemm.Multiply(Transpose.No, Transpose.No, _outChannels, ldc, rows, 1f, Weight.Value, rows, _col, ldc, 0f, _product, ldc);
        for (int n = 0; n < batch; n++)
        {
            for (int oc = 0; oc < _outChannels; oc++)
            {
                ReadOnlySpan<float> src = _product.AsSpan((oc * ldc) + (n * plane), plane);
                Span<float> dst = output.Slice(((n * _outChannels) + oc) * plane, plane);
                if (Bias is null)
                {
                    src.CopyTo(dst);
                }
                else
                {
                    TensorPrimitives.Add(src, Bias.Value[oc], dst);
                }
            }
        }
    }

    public unsafe void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int plane = _g.OutPlane, ldc = batch * plane, rows = _g.Rows;
        // dY gathered as [OC, N·P], in the product's buffer (the output itself is kept by the container).
        Span<float> dy = _product.AsSpan(0, _outChannels * ldc);
        for (int n = 0; n < batch; n++)
        {
            for (int oc = 0; oc < _outChannels; oc++)
            {
                outputGradient.Slice(((n * _outChannels) + oc) * plane, plane).CopyTo(dy.Slice((oc * ldc) + (n * plane), plane));
            }
        }

        if (Bias is not null)
        {
            for (int oc = 0; oc < _outChannels; oc++)
            {
                Bias.Gradient[oc] += TensorPrimitives.Sum<float>(dy.Slice(oc * ldc, ldc));
            }
        }

        // dW [OC, rows] += dY [OC, N·P] · colᵀ.
        Sgemm.Multiply(Transpose.No, Transpose.Yes, _outChannels, rows, ldc, 1f, dy, ldc, _col, ldc, 1f, Weight.Gradient, rows);
        if (inputGradient.IsEmpty)
        {
            return;
        }

        if (_colGradient.Length < rows * ldc)
        {
            _colGradient = new float[rows * _capacity * plane];
        }

        // dcol [rows, N·P] = Wᵀ · dY.
        Sgemm.Multiply(Transpose.Yes, Transpose.No, rows, ldc, _outChannels, 1f, Weight.Value, rows, dy, ldc, 0f, _colGradient, ldc);
        fixed (float* dx = inputGradient)
        {
            RunSamples(_accumulate, dx, batch, (long)batch * rows * plane);
        }
    }

    private unsafe void RunSamples(SampleWork work, float* data, int batch, long elements)
    {
        work.Data = data;
        work.Batch = batch;
        WorkerPool.For(batch, elements >= Parallelism.ParallelThreshold ? Parallelism.MaxDegree : 1, work);
        work.Data = null;
    }

    private void Reserve(int batch)
    {
        if (batch <= _capacity)
        {
            return;
        }

        _capacity = batch;
        _col = new float[(long)_g.Rows * batch * _g.OutPlane > Array.MaxLength
            ? throw new ArgumentException($"A batch of {batch} needs a column matrix of {(long)_g.Rows * batch * _g.OutPlane} values, more than an array holds; use a smaller batch.", nameof(batch))
            : _g.Rows * batch * _g.OutPlane];
        _product = new float[_outChannels * batch * _g.OutPlane];
        _colGradient = [];
    }

    /// <summary>im2col (or col2im) of one sample per index.</summary>
    private sealed unsafe class SampleWork(Convolution owner, bool accumulate) : IParallelWork
    {
        public float* Data;
        public int Batch;

        public void Run(int index)
        {
            ConvGeometry g = owner._g;
            int size = g.Channels * g.Plane, ldc = Batch * g.OutPlane;
            var image = new Span<float>(Data + ((long)index * size), size);
            if (accumulate)
            {
                image.Clear();
                Im2Col.Accumulate(owner._colGradient.AsSpan(index * g.OutPlane), ldc, g, image);
            }
            else
            {
                Im2Col.Expand(image, g, owner._col.AsSpan(index * g.OutPlane), ldc);
            }
        }
    }
}
