using System.Globalization;

namespace Xent.Nn;

/// <summary>
/// The arguments of one <see cref="LayerEntry"/> as a layer kind reads them: each read marks the argument used, and
/// <see cref="Done"/> rejects what no read used. Every error names the layer (<c>layer 3 (maxpool(2,x=1))</c>).
/// </summary>
internal sealed class LayerArguments(LayerEntry entry, string where)
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private int _positional;

    /// <summary>The layer in messages: <c>layer 3 (conv2d(32,3))</c>.</summary>
    public string Where { get; } = where;

    /// <summary>The entry.</summary>
    public LayerEntry Entry { get; } = entry;

    /// <summary>An error about this layer.</summary>
    public FormatException Fail(string message) => new($"{Where}: {message}");

    /// <summary>An integer argument, by position or name; <paramref name="fallback"/> when absent (or an error when that is null).</summary>
    public int Int(int position, string name, int? fallback, int minimum)
    {
        string? text = Take(position, name);
        if (text is null)
        {
            return fallback ?? throw Missing(position, name);
        }

        if (!int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) || value < minimum)
        {
            throw Fail($"{name} is '{text}'; it must be a whole number of at least {minimum}.");
        }

        return value;
    }

    /// <summary>A size per spatial dimension: <c>3</c> for all of them or <c>3x5</c> (by position or name); <paramref name="fallback"/> when absent.</summary>
    public int[] Sizes(int position, string name, int rank, int[]? fallback, int minimum)
    {
        string? text = Take(position, name);
        if (text is null)
        {
            return fallback ?? throw Missing(position, name);
        }

        string[] parts = text.Trim().Split('x', 'X', '*');
        if (parts.Length != 1 && parts.Length != rank)
        {
            throw Fail($"{name} is '{text}'; give one size or {rank} sizes joined by x.");
        }

        var sizes = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            string part = parts[parts.Length == 1 ? 0 : i];
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < minimum)
            {
                throw Fail($"{name} is '{text}'; each size must be a whole number of at least {minimum}.");
            }
        }

        return sizes;
    }

    /// <summary>A number argument in [minimum, maximum).</summary>
    public double Number(int position, string name, double? fallback, double minimum, double maximum)
    {
        string? text = Take(position, name);
        if (text is null)
        {
            return fallback ?? throw Missing(position, name);
        }

        if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= minimum && value < maximum))
        {
            throw Fail($"{name} is '{text}'; it must be a number in [{minimum.ToString(CultureInfo.InvariantCulture)}, {maximum.ToString(CultureInfo.InvariantCulture)}).");
        }

        return value;
    }

    /// <summary>A true/false argument by name.</summary>
    public bool Flag(string name, bool fallback)
    {
        string? text = Take(-1, name);
        return text?.Trim().ToLowerInvariant() switch
        {
            null => fallback,
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw Fail($"{name} is '{text}'; it must be true or false."),
        };
    }

    /// <summary>The error for a needed argument that is absent; it names a given argument whose name is one or two letters off (a typo such as <c>kernal</c>).</summary>
    private FormatException Missing(int position, string name)
    {
        string? near = Entry.Named.Keys.FirstOrDefault(k => !_used.Contains(k) && Distance(k, name) <= 2);
        return Fail($"needs {name} (argument {position + 1}){(near is null ? "." : $"; it is given '{near}', which it does not have: did you mean '{name}'?")}");
    }

    /// <summary>The edit distance between two short names.</summary>
    internal static int Distance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            row[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }

    /// <summary>Rejects arguments that no read used.</summary>
    public void Done()
    {
        if (Entry.Positional.Count > _positional)
        {
            throw Fail($"takes {_positional} positional argument{(_positional == 1 ? string.Empty : "s")}, not {Entry.Positional.Count}.");
        }

        foreach (string name in Entry.Named.Keys)
        {
            if (!_used.Contains(name))
            {
                throw Fail($"has no argument '{name}'.");
            }
        }
    }

    private string? Take(int position, string name)
    {
        bool byPosition = position >= 0 && position < Entry.Positional.Count;
        bool byName = Entry.Named.TryGetValue(name, out string? named);
        if (byPosition && byName)
        {
            throw Fail($"gives {name} twice (argument {position + 1} and {name}=).");
        }

        if (byName)
        {
            _used.Add(name);
            return named;
        }

        if (byPosition)
        {
            _positional = Math.Max(_positional, position + 1);
            return Entry.Positional[position];
        }

        if (position >= 0)
        {
            _positional = Math.Max(_positional, position + 1);
        }

        return null;
    }
}
