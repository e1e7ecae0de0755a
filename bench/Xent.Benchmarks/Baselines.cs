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

    /// <summary>The compute floor of a one-exp-per-element kernel: read, FastExp, write, same chunks and threads.</summary>
    public static void ExpPass(float[] source, float[] destination, int threads)
    {
        int chunks = (source.Length + Chunk - 1) / Chunk;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, k =>
        {
            int start = k * Chunk, end = Math.Min(source.Length, start + Chunk);
            int i = start;
            for (; i <= end - 16; i += 16)
            {
                System.Runtime.Intrinsics.Vector512.StoreUnsafe(Xent.Kernels.FastExp.Exp(System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref source[i])), ref destination[i]);
            }

            for (; i < end; i++)
            {
                destination[i] = Xent.Kernels.FastExp.Exp(source[i]);
            }
        });
    }
}
