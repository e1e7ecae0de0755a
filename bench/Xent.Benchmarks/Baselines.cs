using System.Numerics.Tensors;

namespace Xent.Benchmarks;

/// <summary>
/// Memory baselines run in the same process, on the same buffers and with the same thread count as the
/// kernels: a copy of the logits into the gradient buffer (the floor of a fused forward+backward: read once,
/// write once), and a read-only sum (the floor of a forward pass).
/// </summary>
internal static class Baselines
{
    private const int Chunk = 1 << 16;

    public static void Memcpy(float[] source, float[] destination, int threads)
    {
        int chunks = (source.Length + Chunk - 1) / Chunk;
        if (threads == 1)
        {
            source.AsSpan().CopyTo(destination);
            return;
        }

        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, k =>
        {
            int start = k * Chunk;
            int length = Math.Min(Chunk, source.Length - start);
            source.AsSpan(start, length).CopyTo(destination.AsSpan(start, length));
        });
    }

    public static float ReadSum(float[] source, int threads)
    {
        int chunks = (source.Length + Chunk - 1) / Chunk;
        if (threads == 1)
        {
            return TensorPrimitives.Sum<float>(source);
        }

        var partials = new float[chunks];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, k =>
        {
            int start = k * Chunk;
            partials[k] = TensorPrimitives.Sum<float>(source.AsSpan(start, Math.Min(Chunk, source.Length - start)));
        });
        return TensorPrimitives.Sum<float>(partials);
    }
}
