using System.Diagnostics.CodeAnalysis;

namespace Xent.Distributed;

/// <summary>
/// The processes of one job and the few collective operations that data-parallel training needs. Every process (a
/// rank) calls the collective operations in the same order with the same lengths; a rank that calls one the others do
/// not call makes them wait. <see cref="SingleProcess"/> is the job of one process; <see cref="MpiCommunicator"/> is
/// an Open MPI job started by <c>mpirun</c> or <c>srun</c>.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's rank, from 0 to <see cref="Size"/> − 1.</summary>
    int Rank { get; }

    /// <summary>The number of processes in the job, at least 1.</summary>
    int Size { get; }

    /// <summary>
    /// Gathers every rank's <paramref name="send"/> into every rank's <paramref name="receive"/>, in rank order: rank r's
    /// values land at <c>receive[r × send.Length ..]</c>. Values are copied, never combined, so the result is bit-exact.
    /// </summary>
    /// <param name="send">This rank's values; every rank passes the same length.</param>
    /// <param name="receive">Receives <see cref="Size"/> × <c>send.Length</c> values.</param>
    /// <exception cref="ArgumentException"><paramref name="receive"/> does not hold exactly <see cref="Size"/> × <c>send.Length</c> values.</exception>
    void AllGather(ReadOnlySpan<double> send, Span<double> receive);

    /// <inheritdoc cref="AllGather(ReadOnlySpan{double}, Span{double})"/>
    void AllGather(ReadOnlySpan<float> send, Span<float> receive);

    /// <summary>Copies <paramref name="root"/>'s <paramref name="buffer"/> into every other rank's.</summary>
    /// <param name="buffer">The values: read on the root, overwritten elsewhere; every rank passes the same length.</param>
    /// <param name="root">The rank that sends.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="root"/> is not a rank of this job.</exception>
    void Broadcast(Span<double> buffer, int root = 0);

    /// <inheritdoc cref="Broadcast(Span{double}, int)"/>
    void Broadcast(Span<float> buffer, int root = 0);

    /// <inheritdoc cref="Broadcast(Span{double}, int)"/>
    void Broadcast(Span<byte> buffer, int root = 0);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>
    /// Ends the whole job because this rank cannot go on, so that no other rank waits for it forever. Under MPI the
    /// message is written to standard error with the rank, and every process of the job is killed (<c>MPI_Abort</c>,
    /// with <paramref name="exitCode"/> as the job's exit status). In a single process there is no other rank to stop, and a
    /// <see cref="DistributedAbortException"/> carries the message to the caller instead.
    /// </summary>
    /// <param name="message">Why the job ends.</param>
    /// <param name="exitCode">The job's exit status (1: a failed run; 2: bad usage or input).</param>
    [DoesNotReturn]
    void Abort(string message, int exitCode = 1);
}
