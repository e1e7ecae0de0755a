using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Xent.Benchmarks;

/// <summary>
/// The plain C cross-entropy kernel of <c>tools/ce_reference.c</c> (issue 13's second same-run baseline), built with
/// gcc into a temporary folder the first time it is asked for, and called through a function pointer. Absent, with
/// the reason, when gcc or the source is missing or the build fails.
/// </summary>
internal static unsafe class CReference
{
    private static readonly Lazy<(nint Function, string Status)> Loaded = new(Load);

    /// <summary>Whether the kernel was built and loaded.</summary>
    public static bool Available => Loaded.Value.Function != 0;

    /// <summary>What was built, or why not.</summary>
    public static string Status => Loaded.Value.Status;

    /// <summary>Mean cross-entropy (and its gradient unless <paramref name="gradient"/> is null) over n rows of c logits.</summary>
    public static double Run(float[] logits, int[] targets, long n, int c, float[]? gradient, int threads)
    {
        var f = (delegate* unmanaged[Cdecl]<float*, int*, long, int, float*, int, double>)Loaded.Value.Function;
        fixed (float* x = logits)
        fixed (int* y = targets)
        fixed (float* g = gradient)
        {
            return f(x, y, n, c, gradient is null ? null : g, threads);
        }
    }

    private static (nint, string) Load()
    {
        string? source = ToolScripts.Find("ce_reference.c") is { Length: > 0 } found ? found : null;
        if (source is null)
        {
            return (0, "absent: tools/ce_reference.c not found");
        }

        string dir = Directory.CreateTempSubdirectory("xent-ce-reference-").FullName;
        string library = Path.Combine(dir, "libce_reference.so");
        string[] args = ["-O3", "-march=native", "-ffast-math", "-fopenmp", "-shared", "-fPIC", "-o", library, source, "-lm"];
        try
        {
            var info = new ProcessStartInfo("gcc", args) { RedirectStandardError = true, RedirectStandardOutput = true };
            using Process process = Process.Start(info)!;
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                return (0, $"absent: gcc failed: {errors.Trim()}");
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (0, "absent: gcc not found (apt-get install gcc)");
        }

        nint handle = NativeLibrary.Load(library);
        return (NativeLibrary.GetExport(handle, "ce_reference"), $"gcc {string.Join(' ', args[..6])} {Path.GetFileName(source)}");
    }
}
