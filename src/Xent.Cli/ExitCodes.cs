namespace Xent.Cli;

/// <summary>The tool's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The run failed (an unexpected error while working).</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or bad input: an unknown option, a malformed file, an invalid case.</summary>
    public const int BadInput = 2;
}
