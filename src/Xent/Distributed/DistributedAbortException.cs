namespace Xent.Distributed;

/// <summary>Thrown by <see cref="SingleProcess.Abort"/>: the job of one process was ended with a message.</summary>
public sealed class DistributedAbortException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DistributedAbortException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the job ended.</param>
    public DistributedAbortException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the job ended.</param>
    /// <param name="innerException">The cause.</param>
    public DistributedAbortException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
