using System.CommandLine;
using Xent.Cli.Commands;
using Xent.Cli.LossCases;

namespace Xent.Cli;

/// <summary>Builds the command tree and maps outcomes to exit codes (0 success, 1 failed run, 2 bad usage or input).</summary>
internal static class XentApp
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var context = new CliContext(output, error);
        var root = new RootCommand("xent: train classifiers with the cross-entropy loss family, with PyTorch-exact losses.")
        {
            LossCommand.Create(context),
            ExplainCommand.Create(context),
            DemoCommand.Create(context),
            TrainCommand.Create(context),
            EvaluateCommand.Create(context),
            PredictCommand.Create(context),
            InspectCommand.Create(context),
            CompareCommand.Create(context),
        };

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                error.WriteLine($"xent: error: {e.Message}");
            }

            error.WriteLine("Run 'xent --help' for usage.");
            return ExitCodes.BadInput;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (InputException e)
        {
            error.WriteLine($"xent: error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"xent: error: {LossCaseReader.FirstSentence(e.Message)}");
            return ExitCodes.BadInput;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"xent: failed: {e.GetType().Name}: {LossCaseReader.FirstSentence(e.Message)}");
            return ExitCodes.Failed;
        }
    }
}
