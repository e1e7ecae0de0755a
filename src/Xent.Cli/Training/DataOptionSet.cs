using System.CommandLine;
using Xent.Cli.LossCases;
using Xent.Data;

namespace Xent.Cli.Training;

/// <summary>How a training CSV is read: the label, the header, and the columns' kinds (shared by train, compare and inspect).</summary>
internal sealed class DataOptionSet
{
    public Option<string?> Label { get; } = new("--label") { Description = "The label column: its name, or its 0-based index. Default: label (without a header: the last column)." };

    public Option<bool> NoHeader { get; } = new("--no-header") { Description = "The file has no header row; columns are named c0, c1, …." };

    public Option<string[]> Drop { get; } = new("--drop") { Description = "Columns to ignore (ids, free text, dates), comma-separated.", AllowMultipleArgumentsPerToken = true };

    public Option<string[]> Categorical { get; } = new("--categorical") { Description = "Columns to read as categories (one-hot encoded) whatever they hold, comma-separated.", AllowMultipleArgumentsPerToken = true };

    public Option<string[]> Numeric { get; } = new("--numeric") { Description = "Columns to read as numbers, comma-separated.", AllowMultipleArgumentsPerToken = true };

    public Option<string?> Missing { get; } = new("--na") { Description = "More spellings of a missing value, comma-separated, added to the empty cell, NA, NaN, ? and null." };

    public IEnumerable<Option> All => [Label, NoHeader, Drop, Categorical, Numeric, Missing];

    public void AddTo(Command command)
    {
        foreach (Option o in All)
        {
            command.Options.Add(o);
        }
    }

    /// <summary>The reading options the command line asks for.</summary>
    public TableReadOptions Read(ParseResult parse) => new()
    {
        Label = parse.GetValue(Label) is { Length: > 0 } label ? label : "label",
        HasHeader = !parse.GetValue(NoHeader),
        Drop = Names(parse.GetValue(Drop), "--drop"),
        Categorical = Names(parse.GetValue(Categorical), "--categorical"),
        Numeric = Names(parse.GetValue(Numeric), "--numeric"),
        MissingTokens = parse.GetValue(Missing) is { } na ? [.. TableReadOptions.DefaultMissingTokens.Concat(na.Split(',', StringSplitOptions.TrimEntries).Where(t => t.Length > 0)).Distinct(StringComparer.OrdinalIgnoreCase)] : TableReadOptions.DefaultMissingTokens,
    };

    private static string[] Names(string[]? values, string option)
    {
        string[] names = [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries))];
        return names.Any(n => n.Length == 0) ? throw new InputException($"{option}: an empty column name; give names separated by commas, such as {option} id,name.") : names;
    }

    /// <summary>Reads a table; a malformed file or a missing one is bad input (exit 2).</summary>
    public static DataTable ReadTable(string path, TableReadOptions options)
    {
        try
        {
            return CsvTableReader.Read(path, options);
        }
        catch (Exception e) when (e is DataFormatException or FileNotFoundException or DirectoryNotFoundException)
        {
            // A near miss of the built-in dataset's name ("fashion_mnist", "FashionMNIST") gets the right spelling.
            string near = Path.GetFileNameWithoutExtension(path).ToLowerInvariant().Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal);
            string hint = e is FileNotFoundException && near == "fashionmnist" ? " For Debian's Fashion-MNIST images, write fashion-mnist." : string.Empty;
            throw new InputException(e.Message + hint, e);
        }
    }
}
