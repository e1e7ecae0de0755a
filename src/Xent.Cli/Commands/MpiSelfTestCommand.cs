using System.CommandLine;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Xent.Cli.LossCases;
using Xent.Distributed;
using Xent.Kernels;

namespace Xent.Cli.Commands;

/// <summary>
/// <c>xent mpi-selftest</c> (hidden): checks the communicator and the tree sum. Every rank draws the same M seeded
/// shard vectors, sums its own M/K by the tree, and the ranks finish the sum together; every rank also sums all M
/// alone and compares the bits. Rank 0 prints the sum's SHA-256, which is the same for any number of ranks (and
/// without <c>--distributed</c>, in one process). Run as <c>mpirun -np 2 xent mpi-selftest --distributed</c>.
/// </summary>
internal static class MpiSelfTestCommand
{
    public static Command Create(CliContext context)
    {
        var distributed = new Option<bool>("--distributed") { Description = "Use Open MPI (start under mpirun or srun); without it the job is this one process." };
        var shards = new Option<int>("--shards") { Description = "M, the number of shard vectors: a power of 2 that the number of ranks divides.", DefaultValueFactory = _ => 8 };
        var length = new Option<int>("--length") { Description = "Floats per shard vector.", DefaultValueFactory = _ => 4096 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the shard vectors.", DefaultValueFactory = _ => 14 };
        var failOn = new Option<int>("--fail-on-rank") { Description = "Make this rank fail before the first collective call (checks that the job ends instead of hanging).", DefaultValueFactory = _ => -1 };
        var command = new Command("mpi-selftest", "Check the communicator (all-gather, broadcast, barrier) and that the tree sum over ranks is bit-identical to one process.")
        {
            distributed, shards, length, seed, failOn,
        };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            int m = parse.GetValue(shards), n = parse.GetValue(length);
            if (m < 1 || !System.Numerics.BitOperations.IsPow2(m))
            {
                throw new InputException($"--shards must be a power of 2; it is {m}.");
            }

            if (n < 1 || (long)m * n > Array.MaxLength)
            {
                throw new InputException($"--length must be from 1 to {Array.MaxLength / m} for {m} shards; it is {n}.");
            }

            using ICommunicator communicator = parse.GetValue(distributed) ? MpiCommunicator.Initialize() : SingleProcess.Instance;
            if (m % communicator.Size != 0 || !System.Numerics.BitOperations.IsPow2(communicator.Size))
            {
                // Every rank sees the same sizes, so every rank stops here; rank 0 alone says why.
                return communicator.Rank == 0
                    ? throw new InputException($"{communicator.Size} ranks cannot share {m} shards: the number of ranks must be a power of 2 that divides --shards.")
                    : ExitCodes.BadInput;
            }

            try
            {
                if (communicator.Rank == parse.GetValue(failOn))
                {
                    throw new InvalidOperationException($"rank {communicator.Rank} fails on purpose (--fail-on-rank).");
                }

                return Run(context, communicator, m, n, parse.GetValue(seed));
            }
            catch (Exception e) when (communicator.Size > 1)
            {
                // A rank that cannot go on ends the job rather than leave the others waiting in a collective call.
                communicator.Abort(XentApp.OneLine(e.Message));
                return ExitCodes.Failed; // not reached: Abort ends the job
            }
        });
        return command;
    }

    private static int Run(CliContext context, ICommunicator communicator, int shards, int length, ulong seed)
    {
        int rank = communicator.Rank, size = communicator.Size;

        // All-gather: rank r sends (r, size); every rank must receive them in rank order.
        double[] gathered = new double[2 * size];
        communicator.AllGather([rank, size], gathered);
        bool gatherOk = true;
        for (int r = 0; r < size; r++)
        {
            gatherOk &= gathered[2 * r] == r && gathered[(2 * r) + 1] == size;
        }

        // The shard vectors: every rank draws all of them (the same on every rank), magnitudes over 40 binades so
        // that the order of the additions shows in the bits.
        float[] all = new float[shards * length];
        var random = new XentRandom(seed);
        for (int i = 0; i < all.Length; i++)
        {
            all[i] = (float)(random.NextGaussian() * Math.ScaleB(1.0, random.NextInt(41) - 20));
        }

        float[] sequential = new float[length];
        for (int s = 0; s < shards; s++)
        {
            for (int j = 0; j < length; j++)
            {
                sequential[j] += all[(s * length) + j];
            }
        }

        (int first, int count) = TreeSum.LocalShards(shards, rank, size);
        float[] local = all.AsSpan(first * length, count * length).ToArray();
        float[] scratch = new float[size * length];
        float[] sum = TreeSum.AllReduce(communicator, local, count, scratch).ToArray();
        float[] alone = TreeSum.SumInPlace(all.AsSpan(), shards).ToArray();
        bool identical = MemoryMarshal.AsBytes(sum.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(alone.AsSpan()));
        int sequentialDiffers = 0;
        for (int j = 0; j < length; j++)
        {
            sequentialDiffers += BitConverter.SingleToInt32Bits(sequential[j]) != BitConverter.SingleToInt32Bits(alone[j]) ? 1 : 0;
        }

        // Broadcast: rank 0's digest reaches every rank, which compares it with its own.
        byte[] digest = SHA256.HashData(MemoryMarshal.AsBytes(sum.AsSpan()));
        byte[] rootDigest = rank == 0 ? [.. digest] : new byte[digest.Length];
        communicator.Broadcast(rootDigest);
        bool agree = rootDigest.AsSpan().SequenceEqual(digest);

        // Every rank's verdict, gathered so that rank 0 can report them all.
        double[] verdicts = new double[size];
        communicator.AllGather([gatherOk && identical && agree ? 1.0 : 0.0], verdicts);
        communicator.Barrier();
        bool allOk = verdicts.All(v => v == 1.0);
        if (rank == 0)
        {
            context.Out.WriteLine($"ranks: {size}; all-gather in rank order: {(gatherOk ? "ok" : "WRONG")}; broadcast and barrier: ok");
            context.Out.WriteLine($"tree sum of {shards} shards x {length} floats, {count} per rank: identical to one process on {verdicts.Count(v => v == 1.0)} of {size} ranks");
            context.Out.WriteLine($"a sequential sum differs from the tree sum in {sequentialDiffers} of {length} elements");
            context.Out.WriteLine($"sha256: {Convert.ToHexStringLower(digest)}");
        }

        return allOk ? ExitCodes.Success
            : rank == 0 ? throw new InvalidOperationException("the self-test failed: a rank's tree sum differs from one process's, or a collective call returned wrong values.")
            : ExitCodes.Failed;
    }
}
