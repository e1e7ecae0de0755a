using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Xent.Cli.LossCases;
using Xent.Cli.Training;
using Xent.Data;
using Xent.Diagnostics;

namespace Xent.Cli.Commands;

/// <summary><c>xent inspect</c>: checks a dataset before training.</summary>
internal static class InspectCommand
{
    public static Command Create(CliContext context)
    {
        var data = new Option<FileInfo>("--data") { Description = "The CSV to inspect (read as train reads it).", Required = true };
        var reading = new DataOptionSet();
        var command = new Command("inspect", "Report the columns (kind, missing values, categories), class balance, conflicting labels and the loss floor they impose, and unusable columns.") { data };
        reading.AddTo(command);
        command.SetAction(parse =>
        {
            // inspect reads every column, however many categories it has, to report it.
            DataTable table = DataOptionSet.ReadTable(parse.GetRequiredValue(data).FullName, reading.Read(parse) with { MaxCategories = int.MaxValue });
            RenderColumns(context.Console, table);
            foreach (string warning in table.Warnings)
            {
                context.Console.MarkupLine("[yellow]" + Markup.Escape("warning: " + warning) + "[/]");
            }

            foreach (CategoricalColumn c in table.Columns.OfType<CategoricalColumn>().Where(c => c.Kind == ColumnKind.Categorical && c.Values.Count > Math.Max(20, table.Count / 2)))
            {
                context.Console.MarkupLine("[yellow]" + Markup.Escape($"warning: column '{c.Name}' has {c.Values.Count} distinct values in {table.Count} rows: an id, a date or free text? train refuses more than 1000 categories and warns above half the rows; leave it out with --drop {c.Name}.") + "[/]");
            }
            // Columns without any value cannot be encoded: list them, and inspect the rest.
            FeatureColumn[] empty = [.. table.Columns.Where(c => c.MissingCount() == c.Count)];
            foreach (FeatureColumn c in empty)
            {
                context.Console.MarkupLine("[yellow]" + Markup.Escape($"warning: column '{c.Name}' has no values at all; training would refuse it: leave it out with --drop {c.Name}.") + "[/]");
            }

            if (empty.Length == table.Columns.Count)
            {
                throw new InputException("No column has any values to inspect.");
            }

            if (empty.Length > 0)
            {
                table = new DataTable([.. table.Columns.Except(empty)], table.Labels, table.ClassNames);
            }

            Preprocessor encoder;
            try
            {
                encoder = Preprocessor.Fit(table, [.. Enumerable.Range(0, table.Count)], standardize: false);
            }
            catch (ArgumentException e)
            {
                throw new InputException(e.Message, e);
            }

            if ((long)encoder.OutputWidth * table.Count > 100_000_000)
            {
                context.Console.WriteLine($"The columns encode to {encoder.OutputWidth} inputs, too many to check rows for conflicting labels; --drop the columns with many distinct values first.");
                return ExitCodes.Success;
            }

            long missing = table.Columns.Sum(c => (long)c.MissingCount());
            Render(context.Console, DatasetInspector.Inspect(encoder.Transform(table).Data), parse.GetRequiredValue(data).Name, missing);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>One line per column: how it is read, its missing cells, and for categories how many there are.</summary>
    internal static void RenderColumns(IAnsiConsole console, DataTable data)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("columns (as train reads them; --categorical, --numeric and --drop change this)");
        table.AddColumn(new TableColumn("column").NoWrap());
        table.AddColumn("kind");
        table.AddColumn(new TableColumn("missing").RightAligned());
        table.AddColumn("values");
        foreach (FeatureColumn c in data.Columns)
        {
            string values = c switch
            {
                CategoricalColumn k => $"{k.Values.Count} distinct: {string.Join(", ", k.Values.Take(5).Select(Quoted))}{(k.Values.Count > 5 ? ", …" : string.Empty)}",
                INumericColumn n => Range(n),
                _ => string.Empty,
            };
            table.AddRow(Markup.Escape(c.Name), c.Kind.Name(), c.MissingCount().ToString(CultureInfo.InvariantCulture), Markup.Escape(values));
        }

        console.Write(table);
    }

    /// <summary>A category as the values list shows it: quoted (CSV style) when it holds a comma, a quote or edge spaces, so that "4,5" reads as one value.</summary>
    private static string Quoted(string value) => value.Contains(',') || value.Contains('"') || value != value.Trim() || value.Length == 0
        ? "\"" + value.Replace("\"", "\"\"") + "\""
        : value;

    private static string Range(INumericColumn n)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int r = 0; r < n.Count; r++)
        {
            float v = n.ValueAt(r);
            if (!float.IsNaN(v))
            {
                (min, max) = (Math.Min(min, v), Math.Max(max, v));
            }
        }

        return min > max ? "no values" : string.Create(CultureInfo.InvariantCulture, $"{min:G5} to {max:G5}");
    }

    internal static void Render(IAnsiConsole console, DatasetInspection r, string name, long missingCells = 0)
    {
        console.Write(new Rule($"[bold]{Markup.Escape(name)}[/]: {r.Rows} rows, {r.Features} features, {r.ClassNames.Count} classes") { Justification = Justify.Left });
        var table = new Table().Border(TableBorder.Rounded).Title("classes and the weights each scheme gives");
        table.AddColumn("class");
        table.AddColumn(new TableColumn("rows").RightAligned());
        table.AddColumn(new TableColumn("share").RightAligned());
        foreach ((string scheme, _) in r.SchemeWeights)
        {
            table.AddColumn(new TableColumn(Markup.Escape(scheme)).RightAligned());
        }

        for (int c = 0; c < r.ClassNames.Count; c++)
        {
            var row = new List<string> { Markup.Escape(r.ClassNames[c]), r.ClassCounts[c].ToString(CultureInfo.InvariantCulture), ((double)r.ClassCounts[c] / Math.Max(1, r.Rows)).ToString("P1", CultureInfo.InvariantCulture) };
            row.AddRange(r.SchemeWeights.Select(s => s.Weights is { } w ? w[c].ToString("G4", CultureInfo.InvariantCulture) : "-"));
            table.AddRow([.. row]);
        }

        console.Write(table);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Imbalance ratio (largest ÷ smallest class): {r.ImbalanceRatio:G4}"));
        if (r.ConflictingGroups.Count == 0)
        {
            console.WriteLine("No identical feature rows carry different labels: the loss floor is 0.");
        }
        else
        {
            var groups = new Table().Border(TableBorder.Rounded).Title("identical rows with different labels");
            groups.AddColumns("group", "rows", "labels", "entropy (nats)");
            int i = 1;
            foreach (ConflictGroup g in r.ConflictingGroups.Take(20))
            {
                string labels = string.Join(", ", r.ClassNames.Select((c, k) => (c, n: g.LabelCounts[k])).Where(t => t.n > 0).Select(t => $"{t.c}×{t.n}"));
                groups.AddRow((i++).ToString(CultureInfo.InvariantCulture), g.Rows.Length.ToString(CultureInfo.InvariantCulture), Markup.Escape(labels), g.Entropy.ToString("F4", CultureInfo.InvariantCulture));
            }

            console.Write(groups);
            if (r.ConflictingGroups.Count > 20)
            {
                console.WriteLine($"… and {r.ConflictingGroups.Count - 20} more groups.");
            }

            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Cross-entropy floor: Σ_groups (n_g / N)·H(labels in g) = {r.LossFloor:F4} nats. No model can get the mean training loss below it."));
        }

        console.WriteLine(r.ConstantColumns.Count == 0 ? "No constant columns." : $"Constant columns: {string.Join(", ", r.ConstantColumns)}");
        // The inspection reads the encoded rows, where missing cells are already imputed: say so rather than "none".
        string imputed = missingCells == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" after imputing the {missingCells} missing {(missingCells == 1 ? "cell" : "cells")} (per column in the table above; train imputes them the same way)");
        console.WriteLine(r.NonFiniteColumns.Count == 0 ? $"No NaN or infinite values{imputed}." : $"Columns with NaN or infinity{imputed}: {string.Join(", ", r.NonFiniteColumns)}");
        foreach (Diagnostic d in r.Diagnostics())
        {
            console.MarkupLine($"[yellow]{Markup.Escape(d.ToString())}[/]");
        }
    }
}
