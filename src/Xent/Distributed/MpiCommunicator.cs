using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;

namespace Xent.Distributed;

/// <summary>
/// The job started by <c>mpirun</c> or <c>srun</c>, reached through a thin binding to Open MPI's <c>libmpi.so.40</c>
/// (Open MPI 3 to 5). The library is loaded by <see cref="Initialize"/> and by nothing else, so code that never asks
/// for MPI never touches it. Every call's return code is checked (the job's error handler is set to return errors, not
/// to abort), and a failure throws an <see cref="MpiException"/> that names the call. MPI is started once per process
/// and must be used from the thread that started it; <see cref="Dispose"/> finalises it.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    /// <summary>The library loaded when none is named: Open MPI's, by its soname.</summary>
    public const string DefaultLibrary = "libmpi.so.40";

    /// <summary>The command that installs Open MPI on Debian and Ubuntu.</summary>
    public const string InstallCommand = "sudo apt-get install openmpi-bin libopenmpi-dev";

    private const int Success = 0;
    private const int ThreadFunneled = 1;
    private const int MaxErrorString = 512;
    private static readonly Lock s_gate = new();
    private static MpiCommunicator? s_open;

    private readonly Api _api;
    private readonly bool _ownsInit;
    private readonly int _thread;
    private bool _disposed;

    private MpiCommunicator(Api api, bool ownsInit)
    {
        _api = api;
        _ownsInit = ownsInit;
        _thread = Environment.CurrentManagedThreadId;
        int rank, size;
        Check(api.CommRank(api.CommWorld, &rank), "MPI_Comm_rank");
        Check(api.CommSize(api.CommWorld, &size), "MPI_Comm_size");
        (Rank, Size) = (rank, size);
    }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <summary>
    /// Whether this process looks like a rank started by an MPI launcher (Open MPI's <c>mpirun</c>, or PMIx/PMI under
    /// Slurm's <c>srun</c>). It only reads environment variables; nothing is loaded.
    /// </summary>
    public static bool LaunchedByMpi =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null
        || Environment.GetEnvironmentVariable("PMIX_RANK") is not null
        || Environment.GetEnvironmentVariable("PMI_RANK") is not null;

    /// <summary>
    /// Loads Open MPI, starts it (<c>MPI_Init_thread</c>, funnelled: only this thread calls MPI) unless the process
    /// already did, and returns the world communicator. Started without a launcher, MPI runs as a job of one process.
    /// </summary>
    /// <param name="library">The library to load: a soname or a path. Default: <see cref="DefaultLibrary"/>.</param>
    /// <returns>The communicator; dispose it to finalise MPI.</returns>
    /// <exception cref="MpiException">The library cannot be loaded (the message names <see cref="InstallCommand"/>), lacks a symbol, or a call failed.</exception>
    /// <exception cref="InvalidOperationException">A communicator is already open in this process, or MPI was finalised (it cannot start twice).</exception>
    public static MpiCommunicator Initialize(string library = DefaultLibrary)
    {
        ArgumentException.ThrowIfNullOrEmpty(library);
        lock (s_gate)
        {
            if (s_open is not null)
            {
                throw new InvalidOperationException("MPI is already open in this process; use the communicator that opened it.");
            }

            Api api = Api.Load(library);
            int flag;
            Check(api, api.Finalized(&flag), "MPI_Finalized");
            if (flag != 0)
            {
                throw new InvalidOperationException("MPI was finalised in this process and cannot be started again.");
            }

            Check(api, api.Initialized(&flag), "MPI_Initialized");
            bool ownsInit = flag == 0;
            if (ownsInit)
            {
                int provided;
                Check(api, api.InitThread(null, null, ThreadFunneled, &provided), "MPI_Init_thread");
                if (provided < ThreadFunneled)
                {
                    api.Finalize();
                    throw new MpiException($"MPI_Init_thread: this Open MPI provides thread level {provided}; Xent needs MPI_THREAD_FUNNELED ({ThreadFunneled}).") { Call = "MPI_Init_thread" };
                }
            }

            Check(api, api.CommSetErrhandler(api.CommWorld, api.ErrorsReturn), "MPI_Comm_set_errhandler");
            s_open = new MpiCommunicator(api, ownsInit);
            return s_open;
        }
    }

    /// <inheritdoc/>
    public void AllGather(ReadOnlySpan<double> send, Span<double> receive)
    {
        Enter();
        Collective.CheckGather(send.Length, receive.Length, Size);
        fixed (double* s = send)
        fixed (double* r = receive)
        {
            Check(_api.Allgather(s, send.Length, _api.Double, r, send.Length, _api.Double, _api.CommWorld), "MPI_Allgather");
        }
    }

    /// <inheritdoc/>
    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        Enter();
        Collective.CheckGather(send.Length, receive.Length, Size);
        fixed (float* s = send)
        fixed (float* r = receive)
        {
            Check(_api.Allgather(s, send.Length, _api.Float, r, send.Length, _api.Float, _api.CommWorld), "MPI_Allgather");
        }
    }

    /// <inheritdoc/>
    public void Broadcast(Span<double> buffer, int root = 0)
    {
        Enter();
        Collective.CheckRoot(root, Size);
        fixed (double* b = buffer)
        {
            Check(_api.Bcast(b, buffer.Length, _api.Double, root, _api.CommWorld), "MPI_Bcast");
        }
    }

    /// <inheritdoc/>
    public void Broadcast(Span<float> buffer, int root = 0)
    {
        Enter();
        Collective.CheckRoot(root, Size);
        fixed (float* b = buffer)
        {
            Check(_api.Bcast(b, buffer.Length, _api.Float, root, _api.CommWorld), "MPI_Bcast");
        }
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> buffer, int root = 0)
    {
        Enter();
        Collective.CheckRoot(root, Size);
        fixed (byte* b = buffer)
        {
            Check(_api.Bcast(b, buffer.Length, _api.Byte, root, _api.CommWorld), "MPI_Bcast");
        }
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        Enter();
        Check(_api.Barrier(_api.CommWorld), "MPI_Barrier");
    }

    /// <inheritdoc/>
    /// <remarks>It may be called from any thread (it is the way out when something went wrong) and after <see cref="Dispose"/>.</remarks>
    [DoesNotReturn]
    public void Abort(string message, int exitCode = 1)
    {
        try
        {
            Console.Error.WriteLine($"xent: rank {Rank} of {Size}: {message}");
            Console.Error.Flush();
        }
        finally
        {
            _api.Abort(_api.CommWorld, exitCode);
            // MPI_Abort does not return; should it, the process still ends with the job's failure code.
            Environment.Exit(exitCode);
        }

        throw new System.Diagnostics.UnreachableException("MPI_Abort returned.");
    }

    /// <summary>Finalises MPI (<c>MPI_Finalize</c>) if this communicator started it. Calling it again does nothing.</summary>
    /// <exception cref="MpiException">MPI_Finalize failed.</exception>
    public void Dispose()
    {
        lock (s_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            s_open = null;
            if (_ownsInit)
            {
                Check(_api.Finalize(), "MPI_Finalize");
            }
        }
    }

    private void Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Environment.CurrentManagedThreadId != _thread)
        {
            throw new InvalidOperationException("MPI is used from a thread other than the one that started it; Xent starts MPI funnelled (one thread calls MPI).");
        }
    }

    private void Check(int code, string call) => Check(_api, code, call);

    private static void Check(Api api, int code, string call)
    {
        if (code != Success)
        {
            throw new MpiException($"{call} failed with error {code}: {api.Describe(code)}.") { Call = call, ErrorCode = code };
        }
    }

    /// <summary>The entry points and predefined handles, found by name in the loaded library.</summary>
    private sealed class Api
    {
        public delegate* unmanaged<int*, byte***, int, int*, int> InitThread;
        public delegate* unmanaged<int*, int> Initialized;
        public delegate* unmanaged<int*, int> Finalized;
        public delegate* unmanaged<int> Finalize;
        public delegate* unmanaged<nint, int*, int> CommRank;
        public delegate* unmanaged<nint, int*, int> CommSize;
        public delegate* unmanaged<nint, nint, int> CommSetErrhandler;
        public delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int> Allgather;
        public delegate* unmanaged<void*, int, nint, int, nint, int> Bcast;
        public delegate* unmanaged<nint, int> Barrier;
        public delegate* unmanaged<nint, int, int> Abort;
        public delegate* unmanaged<int, byte*, int*, int> ErrorString;

        // In Open MPI's ABI a predefined handle is the address of an exported object (MPI_COMM_WORLD is
        // &ompi_mpi_comm_world, and so on).
        public nint CommWorld;
        public nint Double;
        public nint Float;
        public nint Byte;
        public nint ErrorsReturn;

        public static Api Load(string library)
        {
            nint handle;
            try
            {
                handle = NativeLibrary.Load(library);
            }
            catch (DllNotFoundException e)
            {
                throw new MpiException($"Open MPI ({library}) could not be loaded: {FirstLine(e.Message)} Install it with `{InstallCommand}`, or run without --distributed.", e);
            }

            return new Api
            {
                InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export(handle, library, "MPI_Init_thread"),
                Initialized = (delegate* unmanaged<int*, int>)Export(handle, library, "MPI_Initialized"),
                Finalized = (delegate* unmanaged<int*, int>)Export(handle, library, "MPI_Finalized"),
                Finalize = (delegate* unmanaged<int>)Export(handle, library, "MPI_Finalize"),
                CommRank = (delegate* unmanaged<nint, int*, int>)Export(handle, library, "MPI_Comm_rank"),
                CommSize = (delegate* unmanaged<nint, int*, int>)Export(handle, library, "MPI_Comm_size"),
                CommSetErrhandler = (delegate* unmanaged<nint, nint, int>)Export(handle, library, "MPI_Comm_set_errhandler"),
                Allgather = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int>)Export(handle, library, "MPI_Allgather"),
                Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export(handle, library, "MPI_Bcast"),
                Barrier = (delegate* unmanaged<nint, int>)Export(handle, library, "MPI_Barrier"),
                Abort = (delegate* unmanaged<nint, int, int>)Export(handle, library, "MPI_Abort"),
                ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Export(handle, library, "MPI_Error_string"),
                CommWorld = Export(handle, library, "ompi_mpi_comm_world"),
                Double = Export(handle, library, "ompi_mpi_double"),
                Float = Export(handle, library, "ompi_mpi_float"),
                Byte = Export(handle, library, "ompi_mpi_byte"),
                ErrorsReturn = Export(handle, library, "ompi_mpi_errors_return"),
            };
        }

        /// <summary>MPI's description of an error code, or the code alone when MPI cannot describe it.</summary>
        public string Describe(int code)
        {
            byte* text = stackalloc byte[MaxErrorString];
            int length = 0;
            return ErrorString(code, text, &length) == Success && length > 0 && length <= MaxErrorString
                ? Encoding.UTF8.GetString(text, length).TrimEnd('\0', ' ', '.')
                : "no description";
        }

        private static nint Export(nint handle, string library, string name) =>
            NativeLibrary.TryGetExport(handle, name, out nint address)
                ? address
                : throw new MpiException($"{library} has no symbol {name}: it is not Open MPI 3 or later. Install Open MPI with `{InstallCommand}`.");

        private static string FirstLine(string message)
        {
            string line = message.ReplaceLineEndings("\n").Split('\n')[0].Trim();
            return line.EndsWith('.') ? line : line + ".";
        }
    }
}
