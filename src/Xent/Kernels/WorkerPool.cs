using System.Diagnostics;

namespace Xent.Kernels;

/// <summary>A piece of parallel work: <see cref="Run"/> is called once for each index of a <see cref="WorkerPool.For"/>.</summary>
internal interface IParallelWork
{
    void Run(int index);
}

/// <summary>
/// A minimal fork-join pool that allocates nothing per call once warm (unlike <c>Parallel.For</c>): fixed background
/// threads wait on a semaphore, indices are claimed with an atomic counter, and the calling thread takes part.
/// One call runs at a time; a concurrent or re-entrant call runs its work on its own thread instead. Results never depend
/// on which thread ran an index, so callers stay bit-identical across thread counts.
/// </summary>
/// <remarks>
/// A helper joins a call through a gate (one atomic word: a closed bit, the helpers that joined, the helpers still
/// inside). When the calling thread has run out of indices it closes the gate and waits only for the helpers inside;
/// a helper that wakes after that (its thread was slow to be scheduled: a short call, or a busy machine) finds the gate
/// closed and goes back to sleep without touching the call. Before, the caller waited for every helper it had woken,
/// even one that came too late to find work. A late helper may instead join a later call that is open; the gate caps
/// the helpers a call takes at the number it asked for.
/// <para>
/// A helper that has finished a call spins for up to <see cref="SpinMicroseconds"/> µs, watching the call counter,
/// before it sleeps on the semaphore: a training step makes many short parallel calls a few microseconds apart, and
/// waking a sleeping thread costs tens of microseconds each time. The caller releases the semaphore only for helpers
/// that have gone to sleep (<see cref="s_sleepers"/>); a spinning helper sees the new call by itself.
/// </para>
/// </remarks>
internal static class WorkerPool
{
    private static readonly Lock Gate = new();
    private static readonly SemaphoreSlim Start = new(0);
    // A semaphore, not a ManualResetEventSlim: the event allocates its lock object the first time a waiter really
    // blocks, which made a warm call on a busy machine allocate 24 bytes.
    private static readonly SemaphoreSlim Done = new(0);
    private static readonly List<Thread> Threads = [];
    private static IParallelWork? s_work;
    private static int s_count;
    private static int s_next;
    private static int s_gate;
    private static int s_helpers;
    private static Exception? s_error;
    private static int s_epoch;
    private static int s_sleepers;

    /// <summary>How long an idle helper spins before it sleeps.</summary>
    private const int SpinMicroseconds = 100;

    private static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    /// <summary>Set in <see cref="s_gate"/> when the caller has closed the call.</summary>
    private const int Closed = 1 << 30;

    /// <summary>One joined helper, in <see cref="s_gate"/>'s count of helpers that joined (bits 15-29).</summary>
    private const int Joined = 1 << 15;

    /// <summary>The helpers inside the call (bits 0-14 of <see cref="s_gate"/>).</summary>
    private const int Inside = Joined - 1;

    [ThreadStatic]
    private static bool t_inside;

    /// <summary>Whether the calling thread is running a <see cref="For"/> item (where a nested <see cref="For"/> runs serially).</summary>
    public static bool InParallelRegion => t_inside;

    /// <summary>Runs <paramref name="work"/> for every index in [0, <paramref name="count"/>) on up to <paramref name="degree"/> threads.</summary>
    public static void For(int count, int degree, IParallelWork work)
    {
        if (degree <= 1 || count <= 1 || t_inside || !Gate.TryEnter())
        {
            for (int i = 0; i < count; i++)
            {
                work.Run(i);
            }

            return;
        }

        t_inside = true;
        try
        {
            int helpers = Math.Min(degree, count) - 1;
            while (Threads.Count < helpers)
            {
                var thread = new Thread(WorkerLoop) { IsBackground = true, Name = $"xent-worker-{Threads.Count + 1}" };
                Threads.Add(thread);
                thread.Start();
            }

            s_work = work;
            s_count = count;
            s_next = -1;
            s_error = null;
            s_helpers = helpers;
            Volatile.Write(ref s_gate, 0);
            // A new call: spinning helpers see the counter move; sleeping ones are woken, as many as the call can use.
            Interlocked.Increment(ref s_epoch);
            int wake = TakeSleepers(helpers);
            if (wake > 0)
            {
                Start.Release(wake);
            }

            RunItems();
            // Close the call: a helper that has not joined yet never will; wait for those inside. The last one out
            // releases Done; the caller spins for it first (as long as an idle helper spins), since going to sleep on
            // the semaphore and being woken costs tens of microseconds, more than a helper usually takes to finish.
            if ((Interlocked.Add(ref s_gate, Closed) & Inside) != 0)
            {
                AwaitHelpers();
                Done.Wait();
            }

            s_work = null;
            if (s_error is { } error)
            {
                throw new AggregateException("A parallel kernel task failed.", error);
            }
        }
        finally
        {
            t_inside = false;
            Gate.Exit();
        }
    }

    private static void RunItems()
    {
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref s_next)) < s_count)
            {
                s_work!.Run(i);
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref s_error, e, null);
            Volatile.Write(ref s_next, int.MaxValue - 1);
        }
    }

    private static void WorkerLoop()
    {
        t_inside = true;
        // The counter starts at 0 and a call moves it before it wakes anyone, so a new helper looks for the call that
        // started it at once.
        int seen = -1;
        while (true)
        {
            int epoch = Volatile.Read(ref s_epoch);
            seen = epoch == seen ? Idle(seen) : epoch;
            if (!Join())
            {
                continue;
            }

            RunItems();
            // The last helper to leave a closed call wakes the caller.
            int gate = Interlocked.Decrement(ref s_gate);
            if ((gate & Closed) != 0 && (gate & Inside) == 0)
            {
                Done.Release();
            }
        }
    }

    /// <summary>
    /// Waits for a call after <paramref name="seen"/>: spins for up to <see cref="SpinTicks"/>, then sleeps on the
    /// semaphore; returns the call counter as it was when the helper stopped waiting.
    /// </summary>
    private static int Idle(int seen)
    {
        long start = Stopwatch.GetTimestamp();
        for (int spins = 1; ; spins++)
        {
            int epoch = Volatile.Read(ref s_epoch);
            if (epoch != seen)
            {
                return epoch;
            }

            if ((spins & 63) == 0 && Stopwatch.GetTimestamp() - start > SpinTicks)
            {
                break;
            }

            Thread.SpinWait(8);
        }

        // Counted as asleep first, then the counter read again (Interlocked is a full fence): either this helper sees
        // a call that started meanwhile, or that call's caller sees this helper and releases the semaphore for it.
        Interlocked.Increment(ref s_sleepers);
        int now = Volatile.Read(ref s_epoch);
        if (now != seen && TakeSleepers(1) == 1)
        {
            return now;
        }

        Start.Wait();
        return Volatile.Read(ref s_epoch);
    }

    /// <summary>Spins until no helper is inside the closed call, for up to <see cref="SpinTicks"/>.</summary>
    private static void AwaitHelpers()
    {
        long start = Stopwatch.GetTimestamp();
        for (int spins = 1; (Volatile.Read(ref s_gate) & Inside) != 0; spins++)
        {
            if ((spins & 63) == 0 && Stopwatch.GetTimestamp() - start > SpinTicks)
            {
                return;
            }

            Thread.SpinWait(8);
        }
    }

    /// <summary>Takes up to <paramref name="most"/> of the helpers counted as asleep; returns how many it took.</summary>
    private static int TakeSleepers(int most)
    {
        int sleepers = Volatile.Read(ref s_sleepers);
        while (sleepers > 0 && most > 0)
        {
            int take = Math.Min(sleepers, most);
            int seen = Interlocked.CompareExchange(ref s_sleepers, sleepers - take, sleepers);
            if (seen == sleepers)
            {
                return take;
            }

            sleepers = seen;
        }

        return 0;
    }

    /// <summary>Enters the open call unless it is closed or has all the helpers it asked for.</summary>
    private static bool Join()
    {
        int gate = Volatile.Read(ref s_gate);
        while ((gate & Closed) == 0 && gate / Joined < Volatile.Read(ref s_helpers))
        {
            int seen = Interlocked.CompareExchange(ref s_gate, gate + Joined + 1, gate);
            if (seen == gate)
            {
                return true;
            }

            gate = seen;
        }

        return false;
    }
}
