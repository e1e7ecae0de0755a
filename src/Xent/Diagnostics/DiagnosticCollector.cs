namespace Xent.Diagnostics;

/// <summary>A thread-safe <see cref="IDiagnosticSink"/> that keeps what it receives, once per code.</summary>
public sealed class DiagnosticCollector : IDiagnosticSink
{
    private readonly List<Diagnostic> _items = [];
    private readonly HashSet<string> _codes = [];
    private readonly Lock _gate = new();

    /// <summary>The diagnostics received so far, in arrival order, the first of each code only.</summary>
    public IReadOnlyList<Diagnostic> Items
    {
        get
        {
            lock (_gate)
            {
                return [.. _items];
            }
        }
    }

    /// <summary>How many times a diagnostic arrived in all, repeats included.</summary>
    public int TotalReports { get; private set; }

    /// <inheritdoc />
    public void Report(Diagnostic diagnostic)
    {
        ArgumentNullException.ThrowIfNull(diagnostic);
        lock (_gate)
        {
            TotalReports++;
            if (_codes.Add(diagnostic.Code))
            {
                _items.Add(diagnostic);
            }
        }
    }
}
