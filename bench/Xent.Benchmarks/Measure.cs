using System.Diagnostics;

namespace Xent.Benchmarks;

/// <summary>Timing: warm-up runs (at least 3 and at least 250 ms, so tiered JIT has finished), then the median of at least 7 timed runs.</summary>
internal static class Measure
{
    public static int Runs { get; set; } = 9;

    public static int WarmUps { get; set; } = 3;

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
}
