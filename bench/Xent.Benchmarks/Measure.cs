using System.Diagnostics;

namespace Xent.Benchmarks;

/// <summary>Timing: warm-up runs (at least 3 and at least 250 ms, so tiered JIT has finished), then the median of at least 7 timed runs.</summary>
internal static class Measure
{
    public static int Runs { get; set; } = 9;

    public static int WarmUps { get; set; } = 3;

    /// <summary>
    /// Runs <paramref name="warmUp"/> (a whole short training run) and then waits for the tiered JIT's background
    /// compiles, so that the timed run executes the optimised code that a long run executes. A 25-epoch run on 16k rows
    /// lasts about 0.2 s, less than tiering can take on a busy machine: without this, both an epoch and its kernels
    /// were timed partly in unoptimised (tier-0) code, 2.2–2.5× slower than optimised, and their ratio meant nothing.
    /// </summary>
    /// <param name="warmUp">The warm-up run.</param>
    public static void SettleJit(Action warmUp)
    {
        // A method moves tier 0 → instrumented tier 1 → tier 1, each step after 30 calls made once the JIT has been
        // quiet for 100 ms, and compiled in the background: a few rounds with pauses let every step finish.
        for (int round = 0; round < 4; round++)
        {
            warmUp();
            Thread.Sleep(300);
        }
    }

    /// <summary>The median time of <paramref name="action"/> in milliseconds.</summary>
    public static double MedianMilliseconds(Action action)
    {
        long warmStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < WarmUps || Stopwatch.GetElapsedTime(warmStart).TotalMilliseconds < 250; i++)
        {
            action();
        }

        var times = new double[Math.Max(7, Runs)];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }

    /// <summary>
    /// Times <paramref name="action"/> and <paramref name="baseline"/> in alternation (after warming both), so that
    /// both see the same machine load at each moment; returns both medians and the median of the per-pair ratios.
    /// On a shared machine whose load changes over seconds, the paired ratio is much steadier than a ratio of
    /// medians taken at different times.
    /// </summary>
    public static (double Milliseconds, double BaselineMilliseconds, double Ratio) Paired(Action action, Action baseline, int pairs = 31)
    {
        long warmStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < WarmUps || Stopwatch.GetElapsedTime(warmStart).TotalMilliseconds < 250; i++)
        {
            action();
            baseline();
        }

        var a = new double[pairs];
        var b = new double[pairs];
        var r = new double[pairs];
        for (int i = 0; i < pairs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            a[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            start = Stopwatch.GetTimestamp();
            baseline();
            b[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            r[i] = a[i] / b[i];
        }

        Array.Sort(a);
        Array.Sort(b);
        Array.Sort(r);
        return (a[pairs / 2], b[pairs / 2], r[pairs / 2]);
    }
}
