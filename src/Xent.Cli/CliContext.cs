using Spectre.Console;

namespace Xent.Cli;

/// <summary>Where a command writes: plain writers for machine output, a Spectre console for tables.</summary>
internal sealed class CliContext
{
    public CliContext(TextWriter output, TextWriter error)
    {
        Out = output;
        Error = error;
        // A process that mpirun started writes through the launcher, which may look like a terminal: plain text there.
        bool interactive = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected && MpiLaunch.Processes() is null;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!interactive)
        {
            Console.Profile.Width = 160;
        }
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public IAnsiConsole Console { get; }
}
