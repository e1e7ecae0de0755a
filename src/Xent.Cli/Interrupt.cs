using System.Runtime.InteropServices;

namespace Xent.Cli;

/// <summary>
/// Turns the first SIGINT (Ctrl-C) or SIGTERM into a cancellation, so that a run can write its checkpoint and say how to
/// go on; a second signal ends the process at once, as it would have without this.
/// </summary>
internal sealed class Interrupt : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration[] _registrations;

    public Interrupt()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The signal that cancelled <see cref="Token"/>: "Ctrl-C" or "SIGTERM"; null while none came.</summary>
    public string? Signal { get; private set; }

    public void Dispose()
    {
        foreach (PosixSignalRegistration r in _registrations)
        {
            r.Dispose();
        }

        _source.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        if (Signal is not null)
        {
            return; // the second signal: the default action ends the process
        }

        Signal = context.Signal == PosixSignal.SIGINT ? "Ctrl-C" : "SIGTERM";
        context.Cancel = true;
        _source.Cancel();
    }
}
