using Xent.Kernels;

namespace Xent.Tests;

/// <summary>The worker pool's gate: every index runs once, whether a helper joins early, late or not at all.</summary>
[Collection(nameof(ParallelismCollection))]
public class WorkerPoolTests
{
    private sealed class Counting(int length) : IParallelWork
    {
        public readonly int[] Runs = new int[length];
        public int SpinPerItem;

        public void Run(int index)
        {
            Interlocked.Increment(ref Runs[index]);
            Thread.SpinWait(SpinPerItem);
        }
    }

    [Fact]
    public async Task Every_index_runs_once_in_short_calls_that_a_helper_joins_late_or_never()
    {
        var random = new Random(3);
        var works = new[] { new Counting(64), new Counting(64) };
        var task = Task.Run(() =>
        {
            for (int call = 0; call < 20000; call++)
            {
                // Alternating works: a helper that woke for one call and joins the next must run the next one's items.
                Counting work = works[call % 2];
                Array.Clear(work.Runs);
                int count = random.Next(0, 9), degree = random.Next(1, 5);
                work.SpinPerItem = call % 97 == 0 ? 2000 : 0;
                WorkerPool.For(count, degree, work);
                for (int i = 0; i < work.Runs.Length; i++)
                {
                    Assert.True(work.Runs[i] == (i < count ? 1 : 0), $"call {call}: index {i} of {count} ran {work.Runs[i]} times");
                }
            }
        });
        await task.WaitAsync(TimeSpan.FromMinutes(2)); // a TimeoutException: a lost wake-up
    }

    private sealed class Recording(int length) : IParallelWork
    {
        public readonly int[] Threads = new int[length];

        public void Run(int index)
        {
            Threads[index] = Environment.CurrentManagedThreadId;
            Thread.SpinWait(20000);
        }
    }

    [Fact]
    public void Helpers_that_went_to_sleep_between_calls_are_woken_for_later_calls()
    {
        // Calls a few milliseconds apart (the helper's spin has ended: it sleeps) mixed with back-to-back ones (it is
        // still spinning). Every index runs once, and a helper keeps taking part: a lost count of sleeping helpers
        // would leave it asleep for good and every later call would run on the caller alone.
        var work = new Recording(8);
        int shared = 0;
        for (int call = 0; call < 120; call++)
        {
            if (call % 3 == 0)
            {
                Thread.Sleep(3);
            }

            Array.Clear(work.Threads);
            WorkerPool.For(work.Threads.Length, 2, work);
            Assert.DoesNotContain(0, work.Threads);
            if (call >= 60 && work.Threads.Distinct().Count() > 1)
            {
                shared++;
            }
        }

        Assert.True(shared > 0, "no call of the last 60 ran on a helper");
    }

    private sealed class Failing : IParallelWork
    {
        public void Run(int index)
        {
            if (index == 5)
            {
                throw new InvalidOperationException("item 5");
            }
        }
    }

    [Fact]
    public void A_failing_item_is_reported_and_the_pool_keeps_working()
    {
        var error = Assert.Throws<AggregateException>(() => WorkerPool.For(16, 2, new Failing()));
        Assert.IsType<InvalidOperationException>(error.InnerException);
        var work = new Counting(16);
        WorkerPool.For(16, 2, work);
        Assert.All(work.Runs, r => Assert.Equal(1, r));
    }
}
