using System.Globalization;
using System.Text;

namespace Xent.Data;

/// <summary>Quotes user data in one-line error messages: at most a few dozen characters, control characters escaped.</summary>
internal static class MessageText
{
    /// <summary>How many characters of a value a message quotes.</summary>
    public const int MaxQuoted = 80;

    /// <summary>The first <see cref="MaxQuoted"/> characters of UTF-8 bytes (invalid bytes as U+FFFD), escaped, with … when cut.</summary>
    public static string Quote(ReadOnlySpan<byte> utf8)
    {
        // 4 bytes per character at most: decoding this prefix is enough for MaxQuoted characters.
        ReadOnlySpan<byte> head = utf8.Length > MaxQuoted * 4 ? utf8[..(MaxQuoted * 4)] : utf8;
        return Quote(Encoding.UTF8.GetString(head), cut: head.Length < utf8.Length);
    }

    /// <summary>The first <see cref="MaxQuoted"/> characters of a string, escaped, with … when cut.</summary>
    public static string Quote(string text) => Quote(text, cut: false);

    private static string Quote(string text, bool cut)
    {
        int take = Math.Min(text.Length, MaxQuoted);
        if (take < text.Length && take > 0 && char.IsHighSurrogate(text[take - 1]))
        {
            take--;
        }

        cut |= take < text.Length;
        var sb = new StringBuilder(take + 8);
        foreach (char c in text.AsSpan(0, take))
        {
            _ = c switch
            {
                '\n' => sb.Append("\\n"),
                '\r' => sb.Append("\\r"),
                '\t' => sb.Append("\\t"),
                _ when char.IsControl(c) => sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => sb.Append(c),
            };
        }

        if (cut)
        {
            sb.Append('…');
        }

        return sb.ToString();
    }

    /// <summary>Lists names for a message: the first <paramref name="max"/> (escaped, between single quotes when <paramref name="quoted"/>), then how many more.</summary>
    public static string List(IEnumerable<string> names, int max = 10, bool quoted = false)
    {
        var shown = new List<string>();
        int total = 0;
        foreach (string name in names)
        {
            if (total++ < max)
            {
                shown.Add(quoted ? $"'{Quote(name)}'" : Quote(name));
            }
        }

        return total > max ? $"{string.Join(", ", shown)} and {total - max} more" : string.Join(", ", shown);
    }
}
