using Xent.Cli;

namespace Xent.Tests;

/// <summary>Runs the xent command line in-process and captures its exit code and output.</summary>
internal static class Cli
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = XentApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
