using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Xent.Kernels;

namespace Xent.Nn;

/// <summary>max(0, x), elementwise.</summary>
public sealed class ReLU : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="features">Features per sample.</param>
    public ReLU(int features)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        InputFeatures = features;
    }

    private readonly Chunks _forward = new(backward: false);
    private readonly Chunks _backward = new(backward: true);

    /// <inheritdoc />
    public override int InputFeatures { get; }

    /// <inheritdoc />
    public override int OutputFeatures => InputFeatures;

    /// <inheritdoc />
    public override LayerSpec Spec => new("relu", InputFeatures, OutputFeatures);

    /// <inheritdoc />
    public override unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        fixed (float* x = input)
        fixed (float* y = output)
        {
            Run(x, y, null, input.Length, backward: false);
        }
    }

    /// <inheritdoc />
    public override unsafe void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty)
        {
            return;
        }

        if (output.Length < inputGradient.Length || outputGradient.Length < inputGradient.Length)
        {
            throw new ArgumentException($"ReLU backward: the output ({output.Length}) and its gradient ({outputGradient.Length}) must hold at least the input gradient's {inputGradient.Length} values.", nameof(outputGradient));
        }

        fixed (float* y = output)
        fixed (float* dy = outputGradient)
        fixed (float* dx = inputGradient)
        {
            Run(y, dx, dy, inputGradient.Length, backward: true);
        }
    }

    /// <summary>Elementwise, so any split gives the same values: chunks of a fixed size on the worker pool when large enough.</summary>
    private unsafe void Run(float* a, float* b, float* c, int length, bool backward)
    {
        Chunks work = backward ? _backward : _forward;
        work.A = a;
        work.B = b;
        work.C = c;
        work.Length = length;
        int chunks = (length + Parallelism.ChunkElements - 1) / Parallelism.ChunkElements;
        WorkerPool.For(chunks, length >= Parallelism.ParallelThreshold ? Parallelism.MaxDegree : 1, work);
        work.A = work.B = work.C = null;
    }

    private sealed unsafe class Chunks(bool backward) : IParallelWork
    {
        public float* A;
        public float* B;
        public float* C;
        public int Length;

        public void Run(int index)
        {
            int start = index * Parallelism.ChunkElements, count = Math.Min(Parallelism.ChunkElements, Length - start);
            if (backward)
            {
                BackwardSpan(new ReadOnlySpan<float>(A + start, count), new ReadOnlySpan<float>(C + start, count), new Span<float>(B + start, count));
            }
            else
            {
                ForwardSpan(new ReadOnlySpan<float>(A + start, count), new Span<float>(B + start, count));
            }
        }
    }

    /// <summary>
    /// y = max(0, x) as <c>MaxNative(0, x)</c> computes it on x86 (<c>0 &gt; x ? 0 : x</c>: a NaN propagates, as in PyTorch's
    /// relu, and −0 stays −0), the same in the vector and the scalar code, so that any split of a tensor gives the
    /// same bits (a fused convolution rectifies plane by plane). <paramref name="input"/> and <paramref name="output"/>
    /// may be the same span.
    /// </summary>
    internal static void ForwardSpan(ReadOnlySpan<float> input, Span<float> output)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= input.Length - 16; i += 16)
            {
                Vector512.MaxNative(Vector512<float>.Zero, Vector512.Create(input.Slice(i, 16))).CopyTo(output.Slice(i, 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= input.Length - 8; i += 8)
            {
                Vector256.MaxNative(Vector256<float>.Zero, Vector256.Create(input.Slice(i, 8))).CopyTo(output.Slice(i, 8));
            }
        }

        for (; i < input.Length; i++)
        {
            float x = input[i];
            output[i] = 0f > x ? 0f : x;
        }
    }

    /// <summary>y = max(0, x + <paramref name="bias"/>): one rounding for the sum, then <see cref="ForwardSpan"/>'s rule, so its bits equal an add followed by the layer.</summary>
    internal static void BiasForwardSpan(ReadOnlySpan<float> input, float bias, Span<float> output)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var b = Vector512.Create(bias);
            for (; i <= input.Length - 16; i += 16)
            {
                Vector512.MaxNative(Vector512<float>.Zero, Vector512.Create(input.Slice(i, 16)) + b).CopyTo(output.Slice(i, 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var b = Vector256.Create(bias);
            for (; i <= input.Length - 8; i += 8)
            {
                Vector256.MaxNative(Vector256<float>.Zero, Vector256.Create(input.Slice(i, 8)) + b).CopyTo(output.Slice(i, 8));
            }
        }

        for (; i < input.Length; i++)
        {
            float x = input[i] + bias;
            output[i] = 0f > x ? 0f : x;
        }
    }

    /// <summary>dx = y &gt; 0 ? dy : 0 (<paramref name="output"/> is the forward's y).</summary>
    internal static void BackwardSpan(ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient)
    {
        // A vector select, not a branch: activation signs are unpredictable, and a branch mispredicts about half the time.
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= inputGradient.Length - 16; i += 16)
            {
                Vector512<float> positive = Vector512.GreaterThan(Vector512.Create(output.Slice(i, 16)), Vector512<float>.Zero);
                Vector512.ConditionalSelect(positive, Vector512.Create(outputGradient.Slice(i, 16)), Vector512<float>.Zero).CopyTo(inputGradient.Slice(i, 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= inputGradient.Length - 8; i += 8)
            {
                Vector256<float> positive = Vector256.GreaterThan(Vector256.Create(output.Slice(i, 8)), Vector256<float>.Zero);
                Vector256.ConditionalSelect(positive, Vector256.Create(outputGradient.Slice(i, 8)), Vector256<float>.Zero).CopyTo(inputGradient.Slice(i, 8));
            }
        }

        for (; i < inputGradient.Length; i++)
        {
            inputGradient[i] = output[i] > 0 ? outputGradient[i] : 0f;
        }
    }

    /// <summary>The <c>relu</c> kind (no arguments; keeps the shape).</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "relu";

        public LayerShapes Check(LayerSpec spec, LayerCheck check) => check.SameSize(spec);

        public Module Build(LayerSpec spec, Xent.Kernels.XentRandom random) => new ReLU(spec.In);

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input)
        {
            args.Done();
            return (new LayerSpec(Name, LayerShapes.Size(input), LayerShapes.Size(input)), input);
        }
    }
}
