using System.CommandLine;
using Xent.Cli.Commands;
using Xent.Cli.LossCases;
using Xent.Data;
using Xent.Distributed;
using Xent.Training;

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
            ExportCommand.Create(context),
            InspectCommand.Create(context),
            CompareCommand.Create(context),
            MpiSelfTestCommand.Create(context),
        };

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Command command = parse.CommandResult.Command;
            bool afterUnknownOption = false;
            foreach (var e in parse.Errors)
            {
                // "--learnrate 0.1" gives two errors, one for each token: the value's says nothing new, so it is left out.
                string? token = UnrecognizedToken(e.Message);
                bool value = token is not null && !token.StartsWith('-');
                if (value && afterUnknownOption)
                {
                    afterUnknownOption = false;
                    continue;
                }

                afterUnknownOption = token is not null && !value;
                string suggestion = Suggestion(e.Message, command);
                error.WriteLine($"xent: error: {(suggestion.Length > 0 ? OneLine(e.Message).TrimEnd('.') + suggestion : OneLine(e.Message))}");
            }

            error.WriteLine(command == root ? "Run 'xent --help' for usage." : $"Run 'xent {command.Name} --help' for its options.");
            return ExitCodes.BadInput;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsBadInput(e) && e is not ArgumentException)
        {
            error.WriteLine($"xent: error: {OneLine(e.Message)}");
            return ExitCodes.BadInput;
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"xent: error: {OneLine(LossCaseReader.FirstSentence(e.Message))}");
            return ExitCodes.BadInput;
        }
        catch (TrainingDivergedException e)
        {
            error.WriteLine($"xent: failed: {OneLine(e.Message)}");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or MpiException or DistributedAbortException)
        {
            // The environment failed (permissions, a full disk, a vanished folder, no Open MPI): the messages name the path or the call.
            error.WriteLine($"xent: failed: {OneLine(e.Message)}");
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("xent: failed: cancelled.");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"xent: failed: {OneLine(LossCaseReader.FirstSentence(e.Message))} (an internal error; please report it with the command that caused it)");
            return ExitCodes.Failed;
        }
        catch (OutOfMemoryException)
        {
            error.WriteLine("xent: failed: out of memory; the data or the model is too large for this machine.");
            return ExitCodes.Failed;
        }
    }

    /// <summary>
    /// For an unrecognised token, the nearest name that <paramref name="command"/> knows (its options for "--…", its
    /// subcommands otherwise): a prefix of one ("--epoch" for "--epochs"), or within two edits; empty when none is near.
    /// </summary>
    internal static string Suggestion(string message, Command command)
    {
        if (UnrecognizedToken(message) is not { } token)
        {
            return string.Empty;
        }

        IEnumerable<string> names = token.StartsWith('-')
            ? command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
            : command.Subcommands.Select(c => c.Name);
        string? near = names
            .Select(n => (Name: n, Distance: n.StartsWith(token, StringComparison.Ordinal) && token.Length > 2 ? 0 : Xent.Nn.LayerArguments.Distance(token, n)))
            .Where(p => p.Distance <= 2)
            .OrderBy(p => p.Distance)
            .Select(p => p.Name)
            .FirstOrDefault();
        return near is null ? string.Empty : $"; did you mean '{near}'?";
    }

    /// <summary>The token of System.CommandLine's "Unrecognized command or argument" error, or null for another error.</summary>
    private static string? UnrecognizedToken(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, "^Unrecognized command or argument '(.+)'");
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>Whether an exception means bad usage or input (exit code 2) rather than a failed run (1).</summary>
    internal static bool IsBadInput(Exception e) => e is InputException or RunFolderException or DataFormatException or InvalidDataException or FormatException or ArgumentException;

    /// <summary>A message on one line, without .NET's "(Parameter 'x')" suffix.</summary>
    internal static string OneLine(string message)
    {
        int parameter = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (parameter >= 0)
        {
            message = message[..parameter];
        }

        // System.CommandLine names .NET types ("as expected type 'System.UInt64'"); System.Text.Json adds positions.
        message = System.Text.RegularExpressions.Regex.Replace(message, @" as expected type '([^']*)'", m => ": expected " + TypeWords(m.Groups[1].Value));
        // An option given twice: System.CommandLine counts its values ("expects a single argument but 2 were provided").
        message = System.Text.RegularExpressions.Regex.Replace(message, @"^Option '([^']*)' expects a single argument but (\d+) were provided\.?$", m => $"{m.Groups[1].Value} takes one value, but it was given {m.Groups[2].Value} (is it on the command line twice?).");
        message = System.Text.RegularExpressions.Regex.Replace(message, @"\s*(Path: \S* \|\s*)?LineNumber: \d+ \| BytePositionInLine: \d+\.?", string.Empty);
        return message.ReplaceLineEndings(" ").Trim();
    }

    private static string TypeWords(string type) => type switch
    {
        _ when type.Contains("UInt", StringComparison.Ordinal) => "a whole number of 0 or more",
        _ when type.Contains("Int", StringComparison.Ordinal) => "a whole number",
        _ when type.Contains("Double", StringComparison.Ordinal) || type.Contains("Single", StringComparison.Ordinal) => "a number",
        _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ => "another kind of value",
    };
}
