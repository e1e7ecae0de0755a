using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using Xent.Kernels;
using Xent.Losses;

namespace Xent.Benchmarks;

/// <summary>
/// BenchmarkDotNet micro-benchmarks of the individual kernels (run: <c>-- bdn --filter '*'</c>). They report absolute
/// times and allocations; the harness's other suites report ratios to same-run baselines.
/// </summary>
[MemoryDiagnoser]
public class CrossEntropyMicro
{
    private float[] _logits = [];
    private float[] _gradient = [];
    private int[] _targets = [];

    /// <summary>Classes.</summary>
    [Params(2, 10, 1000, 32000)]
    public int Classes { get; set; }

    private int Rows => Math.Max(1, (1 << 20) / Classes);

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _logits = [.. Enumerable.Range(0, Rows * Classes).Select(_ => (float)((random.NextDouble() * 8) - 4))];
        _gradient = new float[_logits.Length];
        _targets = [.. Enumerable.Range(0, Rows).Select(_ => random.Next(Classes))];
    }

    [Benchmark]
    public double ForwardBackward() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(_logits, [Rows, Classes]), new ReadOnlyTensorSpan<int>(_targets, [Rows]), gradient: _gradient).Value;

    [Benchmark]
    public double ForwardOnly() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(_logits, [Rows, Classes]), new ReadOnlyTensorSpan<int>(_targets, [Rows])).Value;

    [Benchmark(Baseline = true)]
    public void Memcpy() => _logits.AsSpan().CopyTo(_gradient);
}

/// <summary>FastExp against the runtime's vector exp, and SGEMM at 256³.</summary>
[MemoryDiagnoser]
public class KernelMicro
{
    private readonly float[] _x = [.. Enumerable.Range(0, 4096).Select(i => -88f * i / 4096)];
    private readonly float[] _y = new float[4096];
    private readonly float[] _a = new float[256 * 256], _b = new float[256 * 256], _c = new float[256 * 256];

    [Benchmark]
    public void FastExp512()
    {
        for (int i = 0; i < _x.Length; i += 16)
        {
            FastExp.Exp(Vector512.LoadUnsafe(ref _x[i])).StoreUnsafe(ref _y[i]);
        }
    }

    [Benchmark]
    public void RuntimeExp512()
    {
        for (int i = 0; i < _x.Length; i += 16)
        {
            Vector512.Exp(Vector512.LoadUnsafe(ref _x[i])).StoreUnsafe(ref _y[i]);
        }
    }

    [Benchmark]
    public void Sgemm256() => Sgemm.Multiply(Transpose.No, Transpose.No, 256, 256, 256, 1, _a, 256, _b, 256, 0, _c, 256);
}
