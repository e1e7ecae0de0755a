using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Xent.Benchmarks;

/// <summary>What the figures were measured on.</summary>
internal static class MachineInfo
{
    public static string Describe(int threads)
    {
        string cpu = "unknown CPU";
        try
        {
            string? line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
            if (line is not null)
            {
                cpu = line[(line.IndexOf(':') + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }

        string simd = Vector512.IsHardwareAccelerated ? "AVX-512 (Vector512)" : Vector256.IsHardwareAccelerated ? "AVX2 (Vector256)" : "scalar";
        return $"{cpu}; {Environment.ProcessorCount} logical cores; {simd}; {RuntimeInformation.FrameworkDescription}; {RuntimeInformation.OSDescription}; threads used: {threads}";
    }
}
