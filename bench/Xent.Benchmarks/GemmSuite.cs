using System.Diagnostics;
using System.Runtime.Intrinsics;
using Xent.Kernels;

namespace Xent.Benchmarks;

/// <summary>
/// Xent's SGEMM against OpenBLAS cblas_sgemm in the same run and thread count, for square sizes and the MLP's shapes,
/// and as a share of the measured FMA peak (a register-only FMA loop on every thread).
/// </summary>
internal static class GemmSuite
{
    public static double PeakGflops(int threads)
    {
        double best = 0;
        for (int rep = 0; rep < 5; rep++)
        {
            const long iterations = 20_000_000;
            long start = Stopwatch.GetTimestamp();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => FmaLoop(iterations));
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            int lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
            best = Math.Max(best, threads * iterations * 10.0 * lanes * 2 / seconds / 1e9);
        }

        return best;
    }

    private static float FmaLoop(long iterations)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
            Vector512<float> x = Vector512.Create(0.999999f), y = Vector512.Create(1e-7f);
            for (long i = 0; i < iterations; i++)
            {
                a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y);
                a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
                a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y);
                a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
                a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y);
            }

            return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9);
        }

        Vector256<float> b0 = Vector256.Create(1f), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0, b8 = b0, b9 = b0;
        Vector256<float> u = Vector256.Create(0.999999f), v = Vector256.Create(1e-7f);
        for (long i = 0; i < iterations; i++)
        {
            b0 = Vector256.FusedMultiplyAdd(b0, u, v); b1 = Vector256.FusedMultiplyAdd(b1, u, v);
            b2 = Vector256.FusedMultiplyAdd(b2, u, v); b3 = Vector256.FusedMultiplyAdd(b3, u, v);
            b4 = Vector256.FusedMultiplyAdd(b4, u, v); b5 = Vector256.FusedMultiplyAdd(b5, u, v);
            b6 = Vector256.FusedMultiplyAdd(b6, u, v); b7 = Vector256.FusedMultiplyAdd(b7, u, v);
            b8 = Vector256.FusedMultiplyAdd(b8, u, v); b9 = Vector256.FusedMultiplyAdd(b9, u, v);
        }

        return Vector256.Sum(b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8 + b9);
    }

    public static IEnumerable<Row> Run(int threads, double peak)
    {
        Parallelism.MaxDegree = threads;
        OpenBlas.SetThreads(threads);
        (string Name, int M, int N, int K, bool TA, bool TB)[] shapes =
        [
            ("square 256", 256, 256, 256, false, false),
            ("square 1024", 1024, 1024, 1024, false, false),
            ("square 2048", 2048, 2048, 2048, false, false),
            ("MLP 64-128 fwd, batch 64", 64, 128, 64, false, true),
            ("MLP 128-10 fwd, batch 64", 64, 10, 128, false, true),
            ("MLP 128-10 bwd dW, batch 64", 10, 128, 64, true, false),
            ("MLP 128-10 bwd dX, batch 64", 64, 128, 10, false, false),
            ("MLP 784-256 fwd, batch 128", 128, 256, 784, false, true),
            ("MLP 784-256 bwd dW, batch 128", 256, 784, 128, true, false),
            ("MLP 1024-1024 fwd, batch 1024", 1024, 1024, 1024, false, true),
        ];
        foreach (var s in shapes)
        {
            var random = new Random(1);
            float[] a = [.. Enumerable.Range(0, s.M * s.K).Select(_ => (float)random.NextDouble())];
            float[] b = [.. Enumerable.Range(0, s.K * s.N).Select(_ => (float)random.NextDouble())];
            var c = new float[s.M * s.N];
            int lda = s.TA ? s.M : s.K, ldb = s.TB ? s.K : s.N;
            double flops = 2.0 * s.M * s.N * s.K;
            // Small products are timed in batches of calls so that each sample lasts about a millisecond.
            int reps = (int)Math.Clamp(2e8 / flops, 1, 10_000);
            void Xent()
            {
                for (int i = 0; i < reps; i++)
                {
                    Sgemm.Multiply(s.TA ? Transpose.Yes : Transpose.No, s.TB ? Transpose.Yes : Transpose.No, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, c, s.N);
                }
            }

            string shape = $"{s.M}x{s.N}x{s.K}{(s.TA ? " Aᵀ" : string.Empty)}{(s.TB ? " Bᵀ" : string.Empty)}";
            if (OpenBlas.Available)
            {
                void Blas()
                {
                    for (int i = 0; i < reps; i++)
                    {
                        OpenBlas.Sgemm(s.TA, s.TB, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, c, s.N);
                    }
                }

                // Three rounds of a block of Xent calls and then a block of OpenBLAS calls (each block: warm-up, then the
                // median of its timed runs); the ratio is the median of the rounds' ratios. Blocks, not call-by-call
                // alternation: both libraries keep their threads spinning for a while after a call (Xent's for 0.1 ms,
                // OpenBLAS's far longer), which would slow whichever call came next. Each block starts after a pause
                // of 0.2 s, so that the other library's threads have gone to sleep.
                var rounds = new (double Xent, double Blas)[3];
                for (int round = 0; round < rounds.Length; round++)
                {
                    Thread.Sleep(200);
                    double x = Measure.MedianMilliseconds(Xent) / reps;
                    Thread.Sleep(200);
                    double o = Measure.MedianMilliseconds(Blas) / reps;
                    rounds[round] = (x, o);
                }

                Array.Sort(rounds, (p, q) => (p.Xent / p.Blas).CompareTo(q.Xent / q.Blas));
                (double xent, double blas) = rounds[1];
                double xentGflops = flops / (xent * 1e6);
                yield return new Row($"SGEMM {s.Name}", shape, xent, OpenBlas.BaselineName, blas, $"{xentGflops:F1} GFLOP/s, {100 * xentGflops / peak:F0}% of FMA peak; median of 3 rounds ({rounds[0].Xent / rounds[0].Blas:F2}-{rounds[2].Xent / rounds[2].Blas:F2})");
            }
            else
            {
                double xent = Measure.MedianMilliseconds(Xent) / reps;
                double xentGflops = flops / (xent * 1e6);
                yield return new Row($"SGEMM {s.Name}", shape, xent, "OpenBLAS absent", double.NaN, $"{xentGflops:F1} GFLOP/s, {100 * xentGflops / peak:F0}% of FMA peak");
            }
        }
    }
}
