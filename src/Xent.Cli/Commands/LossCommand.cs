using System.CommandLine;
using System.Text;
using System.Text.Json;
using Xent.Cli.LossCases;
using Xent.Diagnostics;

namespace Xent.Cli.Commands;

/// <summary><c>xent loss FILE.json</c>: evaluates loss cases in the golden format and prints loss and gradient as JSON.</summary>
internal static class LossCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<FileInfo>("file") { Description = "A case object, or {\"cases\": [...]}, in the golden format." };
        var noDiagnostics = new Option<bool>("--no-diagnostics") { Description = "Do not check whether the logits look like probabilities or log-probabilities." };
        var command = new Command("loss", "Evaluate loss cases (golden JSON format) and print {\"loss\", \"grad\"} as JSON.") { file, noDiagnostics };
        command.SetAction(parse =>
        {
            FileInfo path = parse.GetRequiredValue(file);
            IDiagnosticSink? sink = parse.GetValue(noDiagnostics) ? null : new StderrSink(context.Error);
            return Execute(path.FullName, context, sink);
        });
        return command;
    }

    internal static int Execute(string path, CliContext context, IDiagnosticSink? sink)
    {
        IReadOnlyList<LossCaseReader.Entry> entries = LossCaseReader.ReadFile(path, out bool isList);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            if (!isList)
            {
                LossCaseResult result;
                try
                {
                    result = LossCaseRunner.Run(entries[0].Case!, sink);
                }
                catch (ArgumentException e)
                {
                    throw new InputException($"{entries[0].Case!.Where}: {LossCaseReader.FirstSentence(e.Message)}", e);
                }

                result.WriteTo(writer);
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteStartArray("results");
                foreach (LossCaseReader.Entry entry in entries)
                {
                    string? error = entry.Error;
                    if (entry.Case is { } c)
                    {
                        try
                        {
                            LossCaseRunner.Run(c, sink).WriteTo(writer);
                            continue;
                        }
                        catch (Exception e) when (e is ArgumentException or InputException)
                        {
                            error = LossCaseReader.FirstSentence(e.Message);
                        }
                    }

                    writer.WriteStartObject();
                    writer.WriteString("error", error);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }
        }

        context.Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        return ExitCodes.Success;
    }

    /// <summary>Writes each diagnostic as one line on standard error.</summary>
    internal sealed class StderrSink(TextWriter error) : IDiagnosticSink
    {
        public void Report(Diagnostic diagnostic) => error.WriteLine($"xent: {diagnostic}");
    }
}
