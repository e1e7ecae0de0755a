namespace Xent.Data;

/// <summary>A data file is malformed. The message names the file, and the line and column where known.</summary>
public sealed class DataFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="file">The file.</param>
    /// <param name="line">1-based line, or 0 when not about one line.</param>
    /// <param name="column">1-based column (field number), or 0 when not about one field.</param>
    /// <param name="problem">What is wrong.</param>
    public DataFormatException(string file, long line, int column, string problem)
        : base(Format(file, line, column, problem))
    {
        File = file;
        Line = line;
        Column = column;
        Problem = problem;
    }

    /// <summary>The file.</summary>
    public string File { get; }

    /// <summary>1-based line, or 0.</summary>
    public long Line { get; }

    /// <summary>1-based column, or 0.</summary>
    public int Column { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }

    private static string Format(string file, long line, int column, string problem)
        => line > 0 ? column > 0 ? $"{file}:{line}:{column}: {problem}" : $"{file}:{line}: {problem}" : $"{file}: {problem}";
}
