namespace Xent.Distributed;

/// <summary>
/// Open MPI could not be loaded or one of its calls failed. The message names the call (for example
/// <c>MPI_Allgather</c>) and MPI's own description of the error.
/// </summary>
public sealed class MpiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MpiException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public MpiException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public MpiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The MPI call that failed, or <see langword="null"/> when the library could not be loaded.</summary>
    public string? Call { get; init; }

    /// <summary>The error code the call returned (0 when the library could not be loaded).</summary>
    public int ErrorCode { get; init; }
}
