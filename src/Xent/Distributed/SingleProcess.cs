using System.Diagnostics.CodeAnalysis;

namespace Xent.Distributed;

/// <summary>
/// The job of one process: rank 0 of 1. Gathering copies, broadcasting and the barrier do nothing, and nothing is
/// loaded, so code written against <see cref="ICommunicator"/> runs unchanged without MPI.
/// </summary>
public sealed class SingleProcess : ICommunicator
{
    /// <summary>The one instance (it holds no state).</summary>
    public static SingleProcess Instance { get; } = new();

    private SingleProcess()
    {
    }

    /// <inheritdoc/>
    public int Rank => 0;

    /// <inheritdoc/>
    public int Size => 1;

    /// <inheritdoc/>
    public void AllGather(ReadOnlySpan<double> send, Span<double> receive) => Gather(send, receive);

    /// <inheritdoc/>
    public void AllGather(ReadOnlySpan<float> send, Span<float> receive) => Gather(send, receive);

    /// <inheritdoc/>
    public void Broadcast(Span<double> buffer, int root = 0) => CheckRoot(root);

    /// <inheritdoc/>
    public void Broadcast(Span<float> buffer, int root = 0) => CheckRoot(root);

    /// <inheritdoc/>
    public void Broadcast(Span<byte> buffer, int root = 0) => CheckRoot(root);

    /// <inheritdoc/>
    public void Barrier()
    {
    }

    /// <inheritdoc/>
    /// <exception cref="DistributedAbortException">Always: it carries <paramref name="message"/>.</exception>
    [DoesNotReturn]
    public void Abort(string message, int exitCode = 1) => throw new DistributedAbortException(message);

    /// <summary>Does nothing: there is nothing to release.</summary>
    public void Dispose()
    {
    }

    private static void Gather<T>(ReadOnlySpan<T> send, Span<T> receive)
    {
        Collective.CheckGather(send.Length, receive.Length, 1);
        send.CopyTo(receive);
    }

    private static void CheckRoot(int root) => Collective.CheckRoot(root, 1);
}
