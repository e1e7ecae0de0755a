using System.Runtime.InteropServices;

namespace Xent.Benchmarks;

/// <summary>OpenBLAS's cblas_sgemm through P/Invoke, when Debian's libopenblas0-pthread is installed.</summary>
internal static unsafe class OpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    // Initialised before s_handle: static initialisers run in textual order, and Load() sets it.
    private static string s_library = "absent";
    private static readonly nint s_handle = Load();
    private static readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    private static readonly delegate* unmanaged[Cdecl]<int, void> s_setThreads;

    static OpenBlas()
    {
        if (s_handle != 0)
        {
            s_sgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)NativeLibrary.GetExport(s_handle, "cblas_sgemm");
            s_setThreads = NativeLibrary.TryGetExport(s_handle, "openblas_set_num_threads", out nint p) ? (delegate* unmanaged[Cdecl]<int, void>)p : null;
        }
    }

    public static bool Available => s_handle != 0;

    public static string Library => s_library;

    /// <summary>
    /// The kernel OpenBLAS picked at load time (<c>openblas_get_corename</c>, for example Cooperlake or Haswell) and
    /// the environment variables that steer it, as they are in this process: OPENBLAS_CORETYPE forces a core (this
    /// machine's default environment forces Haswell's AVX2 kernels); OPENBLAS_L2_SIZE changes its blocking.
    /// </summary>
    public static string Describe()
    {
        if (s_handle == 0)
        {
            return "OpenBLAS absent";
        }

        string core = "unknown core";
        if (NativeLibrary.TryGetExport(s_handle, "openblas_get_corename", out nint p))
        {
            core = Marshal.PtrToStringAnsi(((delegate* unmanaged[Cdecl]<nint>)p)()) ?? core;
        }

        string Variable(string name) => Environment.GetEnvironmentVariable(name) is { } v ? $"{name}={v}" : $"{name} unset";
        return $"OpenBLAS {s_library}, core {core} ({Variable("OPENBLAS_CORETYPE")}, {Variable("OPENBLAS_L2_SIZE")})";
    }

    /// <summary>The baseline's name in result tables: OpenBLAS and the core it runs.</summary>
    public static string BaselineName
    {
        get
        {
            if (s_handle == 0 || !NativeLibrary.TryGetExport(s_handle, "openblas_get_corename", out nint p))
            {
                return "OpenBLAS sgemm";
            }

            return $"OpenBLAS sgemm ({Marshal.PtrToStringAnsi(((delegate* unmanaged[Cdecl]<nint>)p)())})";
        }
    }

    private static nint Load()
    {
        foreach (string name in new[] { "libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/libopenblas.so.0", "libopenblas.so" })
        {
            if (NativeLibrary.TryLoad(name, out nint handle))
            {
                s_library = name;
                return handle;
            }
        }

        return 0;
    }

    public static void SetThreads(int threads)
    {
        if (s_setThreads != null)
        {
            s_setThreads(threads);
        }
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            s_sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }
}
