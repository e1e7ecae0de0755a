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
    private volatile bool _armed; // set by the training thread, read by the signal's

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

    /// <summary>
    /// Whether the work has reached the point where it watches <see cref="Token"/> (training's steps). Before that (while
    /// the data are read), a signal cannot stop the work between two steps, so it ends the process at once with exit
    /// code 1 and <see cref="BeforeArmed"/>'s line on standard error.
    /// </summary>
    public bool Armed
    {
        get => _armed;
        set => _armed = value;
    }

    /// <summary>The line a signal before <see cref="Armed"/> prints, given the signal's name.</summary>
    public Func<string, string> BeforeArmed { get; init; } = signal => $"xent: interrupted by {signal}.";

    private void Handle(PosixSignalContext context)
    {
        if (Signal is not null)
        {
            return; // the second signal: the default action ends the process
        }

        Signal = context.Signal == PosixSignal.SIGINT ? "Ctrl-C" : "SIGTERM";
        context.Cancel = true;
        if (!Armed)
        {
            Console.Error.WriteLine(BeforeArmed(Signal));
            Environment.Exit(ExitCodes.Failed);
        }

        _source.Cancel();
    }
}
