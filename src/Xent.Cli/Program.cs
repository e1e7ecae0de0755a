namespace Xent.Cli;

/// <summary>The <c>xent</c> command-line tool.</summary>
internal static class Program
{
    private static int Main(string[] args) => XentApp.Run(args, Console.Out, Console.Error);
}
