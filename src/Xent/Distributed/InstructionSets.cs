using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Distributed;

/// <summary>
/// The instruction sets the kernels choose their paths by, and the runtime version, as numbers that ranks can
/// compare: ranks that would take different SIMD paths could compute different bits, so a sharded job whose machines
/// differ is refused instead of silently not matching one process.
/// </summary>
internal static class InstructionSets
{
    /// <summary>This process's fingerprint: a mask of the instruction sets in use, and the runtime version.</summary>
    /// <returns>Two doubles (each an integer below 2^53, so exact).</returns>
    public static double[] Fingerprint()
    {
        long mask = 0;
        bool[] flags =
        [
            Vector128.IsHardwareAccelerated, Vector256.IsHardwareAccelerated, Vector512.IsHardwareAccelerated,
            Avx2.IsSupported, Fma.IsSupported, Avx512F.IsSupported, Avx512BW.IsSupported,
            System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported,
        ];
        for (int i = 0; i < flags.Length; i++)
        {
            mask |= flags[i] ? 1L << i : 0;
        }

        mask |= (long)Vector<byte>.Count << 16;
        mask |= (long)RuntimeInformation.ProcessArchitecture << 32;
        Version v = Environment.Version;
        return [mask, ((double)v.Major * 1_000_000) + (v.Minor * 10_000) + v.Build];
    }

    /// <summary>Describes a fingerprint for a message.</summary>
    /// <param name="mask">The first number of <see cref="Fingerprint"/>.</param>
    /// <param name="version">The second.</param>
    /// <returns>The text.</returns>
    public static string Describe(double mask, double version)
    {
        long m = (long)mask;
        string[] names = ["Vector128", "Vector256", "Vector512", "AVX2", "FMA", "AVX-512F", "AVX-512BW", "AdvSimd"];
        string sets = string.Join(" ", names.Where((_, i) => (m & (1L << i)) != 0));
        long v = (long)version;
        return $"{(sets.Length == 0 ? "no SIMD" : sets)}, Vector<byte> {(m >> 16) & 0xFFFF}, {(Architecture)(m >> 32)}, .NET {v / 1_000_000}.{v / 10_000 % 100}.{v % 10_000}";
    }

    /// <summary>
    /// Gathers every rank's fingerprint and refuses a job whose ranks differ. Every rank sees the same gathered values,
    /// so every rank throws alike.
    /// </summary>
    /// <param name="communicator">The job.</param>
    /// <exception cref="InvalidOperationException">A rank's instruction sets or runtime differ from rank 0's.</exception>
    public static void CheckAlike(ICommunicator communicator)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        double[] mine = Fingerprint();
        double[] all = new double[mine.Length * communicator.Size];
        communicator.AllGather(mine, all);
        if (Mismatch(all) is { } message)
        {
            throw new InvalidOperationException(message);
        }
    }

    /// <summary>The first rank whose fingerprint differs from rank 0's, described, or <see langword="null"/>.</summary>
    /// <param name="gathered">Two numbers per rank, in rank order.</param>
    /// <returns>The message, or null when all agree.</returns>
    public static string? Mismatch(ReadOnlySpan<double> gathered)
    {
        for (int r = 1; r < gathered.Length / 2; r++)
        {
            if (gathered[2 * r] != gathered[0] || gathered[(2 * r) + 1] != gathered[1])
            {
                return $"--distributed: rank {r} uses [{Describe(gathered[2 * r], gathered[(2 * r) + 1])}] but rank 0 uses [{Describe(gathered[0], gathered[1])}]; ranks that take different SIMD paths could compute different bits, so a sharded job needs like machines and the same DOTNET_Enable* and DOTNET_PreferredVectorBitWidth settings on every rank.";
            }
        }

        return null;
    }
}
