using System.Text;

namespace Xent.Data;

/// <summary>Writes CSV fields as RFC 4180 says. Every CSV that Xent writes goes through <see cref="Escape"/>.</summary>
public static class CsvText
{
    /// <summary>
    /// A field as it must appear in a CSV line: unchanged, or, when it holds a comma, a double quote, a carriage
    /// return or a line feed, between double quotes with each double quote doubled.
    /// </summary>
    /// <param name="field">The value.</param>
    /// <returns>The escaped field.</returns>
    public static string Escape(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (field.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return field;
        }

        return "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>Appends <paramref name="field"/>, escaped, to a line being built.</summary>
    /// <param name="line">The line.</param>
    /// <param name="field">The value.</param>
    /// <returns><paramref name="line"/>.</returns>
    public static StringBuilder AppendEscaped(this StringBuilder line, string field)
    {
        ArgumentNullException.ThrowIfNull(line);
        return line.Append(Escape(field));
    }
}
