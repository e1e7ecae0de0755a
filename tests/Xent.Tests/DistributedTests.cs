using System.Diagnostics;
using System.Runtime.InteropServices;
using Xent.Distributed;
using Xent.Kernels;
using Xunit.Abstractions;

namespace Xent.Tests;

/// <summary>Runs only when Open MPI's mpirun is on PATH; otherwise skipped with the reason.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (Mpi.Run is null)
        {
            Skip = "mpirun is not on PATH (sudo apt-get install openmpi-bin libopenmpi-dev): the multi-process test is skipped.";
        }
    }
}

/// <summary>Launches the CLI under mpirun, with a time limit after which the whole job is killed.</summary>
internal static class Mpi
{
    public static readonly string? Run = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "mpirun"))
        .FirstOrDefault(File.Exists);

    public static (int Code, string Out, string Err) Launch(int ranks, TimeSpan limit, params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        var start = new ProcessStartInfo(Run!, ["--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "dotnet", "exec", cli, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"mpirun -np {ranks} xent {string.Join(' ', args)} did not finish within {limit.TotalSeconds} s and was killed. Output: {output.Result} {error.Result}");
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }
}

public sealed class CommunicatorTests
{
    [Fact]
    public void A_single_process_is_rank_0_of_1_and_gathers_by_copying()
    {
        ICommunicator c = SingleProcess.Instance;
        Assert.Equal(0, c.Rank);
        Assert.Equal(1, c.Size);
        double[] d = new double[3];
        c.AllGather([1.5, -2, double.NaN], d);
        Assert.Equal([1.5, -2, double.NaN], d);
        float[] f = new float[2];
        c.AllGather([3f, 4f], f);
        Assert.Equal([3f, 4f], f);
        float[] buffer = [7f];
        c.Broadcast(buffer);
        c.Broadcast(new byte[4], root: 0);
        c.Barrier();
        Assert.Equal([7f], buffer);
    }

    [Fact]
    public void A_single_process_checks_lengths_and_roots_and_aborts_with_an_exception()
    {
        ICommunicator c = SingleProcess.Instance;
        var e = Assert.Throws<ArgumentException>(() => c.AllGather([1.0, 2.0], new double[3]));
        Assert.Contains("needs exactly 2", e.Message);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => c.Broadcast(new double[1], root: 1));
        Assert.Contains("from 0 to 0", r.Message);
        var a = Assert.Throws<DistributedAbortException>(() => c.Abort("the data differ"));
        Assert.Equal("the data differ", a.Message);
    }

    [Fact]
    public void A_missing_MPI_library_names_the_install_command()
    {
        var e = Assert.Throws<MpiException>(() => MpiCommunicator.Initialize("libxent-no-such-mpi.so.40"));
        Assert.Contains("libxent-no-such-mpi.so.40", e.Message);
        Assert.Contains(MpiCommunicator.InstallCommand, e.Message);
    }
}

public sealed class TreeSumTests
{
    /// <summary>M shard vectors whose magnitudes span 40 binades, so that the order of additions shows in the bits.</summary>
    private static float[] Shards(int m, int length, ulong seed)
    {
        var random = new XentRandom(seed);
        float[] v = new float[m * length];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)(random.NextGaussian() * Math.ScaleB(1.0, random.NextInt(41) - 20));
        }

        return v;
    }

    private static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));

    [Theory]
    [InlineData(8, 1000)]
    [InlineData(16, 257)]
    public void K_ranks_of_a_simulated_job_give_the_bits_of_one_process(int m, int length)
    {
        float[] shards = Shards(m, length, (ulong)(m + length));
        float[] alone = TreeSum.SumInPlace(shards.ToArray().AsSpan(), m).ToArray();
        foreach (int k in new[] { 1, 2, 4, 8 })
        {
            float[][] results = ThreadGroup.Run(k, c =>
            {
                (int first, int count) = TreeSum.LocalShards(m, c.Rank, c.Size);
                float[] local = shards.AsSpan(first * length, count * length).ToArray();
                return TreeSum.AllReduce(c, local, count, new float[k * length]).ToArray();
            });
            for (int r = 0; r < k; r++)
            {
                Assert.True(SameBits(alone, results[r]), $"K = {k}: rank {r}'s sum differs from one process's");
            }
        }
    }

    [Fact]
    public void The_double_tree_sum_matches_its_pairing()
    {
        double[] v = [1e16, 1, -1e16, 1, 3, 4, 5, 6];
        // ((1e16 + 1) + (-1e16 + 1)) + ((3 + 4) + (5 + 6)) in doubles: 1e16 + 1 rounds to 1e16.
        double expected = ((1e16 + 1) + (-1e16 + 1)) + ((3.0 + 4) + (5.0 + 6));
        Assert.Equal(expected, TreeSum.SumInPlace(v.AsSpan(), 8)[0]);
        double[][] results = ThreadGroup.Run(2, c => TreeSum.AllReduce(c, new[] { 1e16, 1, -1e16, 1, 3, 4, 5, 6 }.AsSpan(4 * c.Rank, 4).ToArray(), 4, new double[2]).ToArray());
        Assert.Equal(expected, results[0][0]);
        Assert.Equal(expected, results[1][0]);
    }

    [Fact]
    public void A_sequential_sum_depends_on_how_the_shards_are_split()
    {
        const int m = 8, length = 1000;
        float[] shards = Shards(m, length, 3);
        float[] one = new float[length], two = new float[length];
        for (int s = 0; s < m; s++)
        {
            for (int j = 0; j < length; j++)
            {
                one[j] += shards[(s * length) + j];
            }
        }

        // Two ranks each add their half in order, then the halves are added.
        for (int j = 0; j < length; j++)
        {
            float a = 0, b = 0;
            for (int s = 0; s < m / 2; s++)
            {
                a += shards[(s * length) + j];
                b += shards[((s + (m / 2)) * length) + j];
            }

            two[j] = a + b;
        }

        Assert.False(SameBits(one, two), "a sequential sum happened to give the same bits for one and two ranks; pick other data");
        Assert.False(SameBits(one, TreeSum.SumInPlace(shards.AsSpan(), m)), "the tree sum happened to equal the sequential one; pick other data");
    }

    [Fact]
    public void Shard_counts_that_are_not_powers_of_two_are_refused_with_a_message()
    {
        var e = Assert.Throws<ArgumentException>(() => TreeSum.SumInPlace(new float[6], 3));
        Assert.Contains("power of 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => TreeSum.SumInPlace(new float[6], 4));
        Assert.Contains("do not split into 4 vectors", e.Message);
        e = Assert.Throws<ArgumentException>(() => TreeSum.LocalShards(8, 0, 3));
        Assert.Contains("number of ranks", e.Message);
        e = Assert.Throws<ArgumentException>(() => TreeSum.LocalShards(2, 0, 4));
        Assert.Contains("at least 4 shards", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => TreeSum.LocalShards(8, 4, 4));
        Assert.Equal((6, 2), TreeSum.LocalShards(8, 3, 4));
        e = Assert.Throws<ArgumentException>(() => TreeSum.AllReduce(SingleProcess.Instance, new float[8], 2, new float[3]));
        Assert.Contains("need exactly 4", e.Message);
    }

    [Fact]
    public void The_tree_sum_allocates_nothing()
    {
        float[] shards = Shards(16, 4096, 5);
        float[] gathered = new float[4096 * 16];
        TreeSum.SumInPlace(shards.AsSpan(), 16);
        TreeSum.AllReduce(SingleProcess.Instance, shards, 16, gathered.AsSpan(0, 4096));
        long before = GC.GetAllocatedBytesForCurrentThread();
        TreeSum.SumInPlace(shards.AsSpan(), 16);
        TreeSum.AllReduce(SingleProcess.Instance, shards, 16, gathered.AsSpan(0, 4096));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>K ranks as K threads of this process, gathering through shared slots: enough to exercise the tree over ranks.</summary>
    internal sealed class ThreadGroup(int size) : IDisposable
    {
        private readonly Barrier _barrier = new(size);
        private readonly Array?[] _slots = new Array?[size];

        public static T[] Run<T>(int size, Func<ICommunicator, T> body)
        {
            using var group = new ThreadGroup(size);
            var results = new T[size];
            Thread[] threads = [.. Enumerable.Range(0, size).Select(r => new Thread(() => results[r] = body(new Member(group, r))))];
            foreach (Thread t in threads)
            {
                t.Start();
            }

            foreach (Thread t in threads)
            {
                Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a simulated rank did not finish");
            }

            return results;
        }

        public void Dispose() => _barrier.Dispose();

        private sealed class Member(ThreadGroup group, int rank) : ICommunicator
        {
            public int Rank => rank;

            public int Size => group._slots.Length;

            public void AllGather(ReadOnlySpan<double> send, Span<double> receive) => Gather(send, receive);

            public void AllGather(ReadOnlySpan<float> send, Span<float> receive) => Gather(send, receive);

            public void Broadcast(Span<double> buffer, int root = 0) => throw new NotSupportedException();

            public void Broadcast(Span<float> buffer, int root = 0) => throw new NotSupportedException();

            public void Broadcast(Span<byte> buffer, int root = 0) => throw new NotSupportedException();

            public void Barrier() => group._barrier.SignalAndWait();

            [System.Diagnostics.CodeAnalysis.DoesNotReturn]
            public void Abort(string message, int exitCode = 1) => throw new DistributedAbortException(message);

            public void Dispose()
            {
            }

            private void Gather<T>(ReadOnlySpan<T> send, Span<T> receive)
            {
                group._slots[rank] = send.ToArray();
                group._barrier.SignalAndWait();
                for (int r = 0; r < Size; r++)
                {
                    ((T[])group._slots[r]!).CopyTo(receive.Slice(r * send.Length, send.Length));
                }

                group._barrier.SignalAndWait();
            }
        }
    }
}

public sealed class MpiTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [MpiFact]
    public void Two_ranks_under_mpirun_gather_in_rank_order_and_give_the_tree_sum_of_one_process()
    {
        var (code, single, singleError) = Cli.Run("mpi-selftest");
        Assert.True(code == 0, singleError);
        var stopwatch = Stopwatch.StartNew();
        var (mpiCode, mpiOut, mpiError) = Mpi.Launch(2, Limit, "mpi-selftest", "--distributed");
        output.WriteLine($"mpirun -np 2: {stopwatch.Elapsed.TotalSeconds:F1} s\n{mpiOut}{mpiError}");
        Assert.True(mpiCode == 0, $"exit code {mpiCode}: {mpiOut} {mpiError}");
        Assert.Contains("ranks: 2; all-gather in rank order: ok", mpiOut);
        Assert.Contains("identical to one process on 2 of 2 ranks", mpiOut);
        Assert.Equal(Sha(single), Sha(mpiOut));
    }

    [MpiFact]
    public void A_rank_that_fails_ends_the_job_instead_of_hanging()
    {
        var (code, stdout, error) = Mpi.Launch(2, Limit, "mpi-selftest", "--distributed", "--fail-on-rank", "1");
        Assert.NotEqual(0, code);
        Assert.Contains("xent: rank 1 of 2: rank 1 fails on purpose", stdout + error);
    }

    private static string Sha(string text) => text.Split('\n').Single(l => l.StartsWith("sha256: ", StringComparison.Ordinal)).Trim();
}
