using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Xent.Cli.Demos;
using Xent.Cli.LossCases;
using Xent.Cli.Training;
using Xent.Reports;

namespace Xent.Cli.Commands;

/// <summary>
/// <c>xent demo [NAME]</c>: the classic cross-entropy experiments on built-in data, each with an explanation, a table
/// and charts in one self-contained HTML report.
/// </summary>
internal static class DemoCommand
{
    internal static readonly (string Name, string Summary, Action<DemoContext> Run)[] Experiments =
    [
        (ConflictingLabelsDemo.Name, ConflictingLabelsDemo.Summary, ConflictingLabelsDemo.Run),
        (KdimWeightsDemo.Name, KdimWeightsDemo.Summary, KdimWeightsDemo.Run),
        (SequenceConvDemo.Name, SequenceConvDemo.Summary, SequenceConvDemo.Run),
        (SoftVsHardDemo.Name, SoftVsHardDemo.Summary, SoftVsHardDemo.Run),
        (ImbalanceWeightsDemo.Name, ImbalanceWeightsDemo.Summary, ImbalanceWeightsDemo.Run),
    ];

    public static Command Create(CliContext context)
    {
        var name = new Argument<string?>("name") { Description = "One experiment to run (see --list); all when left out.", Arity = ArgumentArity.ZeroOrOne };
        var list = new Option<bool>("--list") { Description = "List the experiments." };
        var output = new Option<string?>("--out") { Description = "Folder for report.html and the charts (default: a new folder under runs/)." };
        var force = new Option<bool>("--force") { Description = "Write into a non-empty --out folder." };
        var command = new Command("demo", "Run the classic cross-entropy experiments on built-in data and write an HTML report.") { name, list, output, force };
        command.SetAction(parse =>
        {
            if (parse.GetValue(list))
            {
                foreach (var e in Experiments)
                {
                    context.Out.WriteLine($"{e.Name,-20} {e.Summary}");
                }

                return ExitCodes.Success;
            }

            string? only = parse.GetValue(name);
            var selected = only is null ? Experiments : Experiments.Where(e => e.Name == only).ToArray();
            if (selected.Length == 0)
            {
                throw new InputException($"demo: unknown experiment '{only}'; choose one of {string.Join(", ", Experiments.Select(e => e.Name))}.");
            }

            string dir = OutputDirectory.Prepare(parse.GetValue(output) ?? OutputDirectory.Default("demo"), parse.GetValue(force));
            return Run(context, selected, dir);
        });
        return command;
    }

    internal static int Run(CliContext context, IReadOnlyList<(string Name, string Summary, Action<DemoContext> Run)> experiments, string dir)
    {
        IAnsiConsole console = context.Console;
        var report = new HtmlReport("Xent demo: the classic cross-entropy experiments");
        var demo = new DemoContext(console, report, dir);
        var total = Stopwatch.StartNew();
        foreach (var e in experiments)
        {
            var watch = Stopwatch.StartNew();
            console.Write(new Rule($"[bold]{Markup.Escape(e.Name)}[/]: {Markup.Escape(e.Summary)}") { Justification = Justify.Left });
            report.Heading($"{e.Name}: {e.Summary}");
            e.Run(demo);
            console.WriteLine($"  ({watch.Elapsed.TotalSeconds:F1} s)");
            console.WriteLine();
        }

        string html = report.Write(dir);
        console.WriteLine($"Report: {html} ({experiments.Count} experiment(s) in {total.Elapsed.TotalSeconds:F1} s)");
        return ExitCodes.Success;
    }
}
