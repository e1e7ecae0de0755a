namespace Xent.Diagnostics;

/// <summary>
/// Receives diagnostics. The library never writes to the console; callers choose where findings go
/// (a collector in tests, the terminal in the CLI, a logger in a service).
/// </summary>
public interface IDiagnosticSink
{
    /// <summary>Receives one finding.</summary>
    /// <param name="diagnostic">The finding.</param>
    void Report(Diagnostic diagnostic);
}
